"""The org tree (组织机构): Shandong shipped as data, schools added by the level above, every
admin confined to its subtree."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import httpx

import enrollment
from services.enrollment.tests.conftest import LIXIA_SCHOOL, RONGCHENG_SCHOOL

PROVINCE = ["370000"]
JINAN = ["370000", "370100"]
LIXIA = ["370000", "370100", "370102"]
RONGCHENG = ["370000", "371000", "371082"]
ANNEX_2_CITIES = "济南 青岛 淄博 枣庄 东营 烟台 潍坊 济宁 泰安 威海 日照 临沂 德州 聊城 滨州 菏泽"


def auth(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


async def children(
    client: httpx.AsyncClient, token: str, parent_id: str, **params: str | int
) -> list[dict[str, str]]:
    items: list[dict[str, str]] = []
    cursor = None
    while True:
        query = {"parent_id": parent_id, **params, **({"cursor": cursor} if cursor else {})}
        r = await client.get("/orgs", params=query, headers=auth(token))
        assert r.status_code == 200, r.text
        items += r.json()["items"]
        cursor = r.json()["next_cursor"]
        if cursor is None:
            return items


async def test_shandong_tree_has_16_cities(
    client: httpx.AsyncClient, token_for: Callable[..., str]
) -> None:
    token = token_for("province_admin", PROVINCE)
    cities = await children(client, token, "370000", limit=5)
    assert len(cities) == 16
    assert {c["name"].removesuffix("市") for c in cities} == set(ANNEX_2_CITIES.split())
    assert {c["id"] for c in cities} >= {"370100", "371000"}
    weihai = await children(client, token, "371000")
    assert {"371082": "荣成市"}.items() <= {c["id"]: c["name"] for c in weihai}.items()


async def test_shandong_tree_has_136_county_level_divisions(
    client: httpx.AsyncClient, token_for: Callable[..., str]
) -> None:
    token = token_for("province_admin", PROVINCE)
    counties = [
        c
        for city in await children(client, token, "370000")
        for c in await children(client, token, city["id"], limit=500)
        if c["level"] == "county"
    ]
    assert len(counties) == 136
    assert all(len(c["id"]) == 6 and c["id"][:4] == c["parent_id"][:4] for c in counties)


def test_shipped_data_uses_official_codes_in_annex_2_order() -> None:
    data = json.loads(
        (Path(enrollment.__file__).parent / "data" / "shandong_orgs.json").read_text("utf-8")
    )
    assert [c["name"].removesuffix("市") for c in data["cities"]] == ANNEX_2_CITIES.split()
    assert sum(len(c["counties"]) for c in data["cities"]) == 136
    jinan = next(c for c in data["cities"] if c["id"] == "370100")
    assert jinan["name"] == "济南市" and len(jinan["counties"]) == 12  # 莱芜 merged in 2019


async def test_county_admin_adds_a_school_of_its_county(
    client: httpx.AsyncClient, token_for: Callable[..., str]
) -> None:
    r = await client.post(
        "/orgs",
        json={"parent_id": "370102", "level": "school", "name": "历下区第二实验小学"},
        headers=auth(token_for("county_admin", LIXIA)),
    )
    assert r.status_code == 201, r.text
    school = r.json()
    assert school["id"] == "370102-S002"  # the seeded 370102-S001 is the first
    assert (school["level"], school["county_id"], school["city_id"]) == (
        "school",
        "370102",
        "370100",
    )
    again = await client.post(
        "/orgs",
        json={"parent_id": "370102", "name": "历下区第二实验小学"},
        headers=auth(token_for("city_admin", JINAN)),
    )
    assert again.status_code == 409 and again.json()["code"] == "school_name_taken"


async def test_county_admin_cannot_add_a_school_to_another_county(
    client: httpx.AsyncClient, token_for: Callable[..., str]
) -> None:
    r = await client.post(
        "/orgs",
        json={"parent_id": "371082", "name": "越界学校"},
        headers=auth(token_for("county_admin", LIXIA)),
    )
    assert r.status_code == 404, r.text
    assert r.json()["code"] == "org_not_found"


async def test_school_admin_cannot_add_schools(
    client: httpx.AsyncClient, token_for: Callable[..., str]
) -> None:
    r = await client.post(
        "/orgs",
        json={"parent_id": "370102", "name": "自建学校"},
        headers=auth(token_for("school_admin", LIXIA_SCHOOL)),
    )
    assert r.status_code == 403, r.text


async def test_schools_are_created_under_a_county_only(
    client: httpx.AsyncClient, token_for: Callable[..., str]
) -> None:
    r = await client.post(
        "/orgs",
        json={"parent_id": "370100", "name": "市直学校"},
        headers=auth(token_for("city_admin", JINAN)),
    )
    assert r.status_code == 422 and r.json()["code"] == "not_a_county"


async def test_admin_sees_its_subtree_and_only_its_own_path_above(
    client: httpx.AsyncClient, token_for: Callable[..., str]
) -> None:
    token = token_for("county_admin", RONGCHENG)
    cities = await children(client, token, "370000")
    assert [c["id"] for c in cities] == ["371000"]
    schools = await children(client, token, "371082")
    assert [s["id"] for s in schools] == [RONGCHENG_SCHOOL[-1]]
    assert (await client.get("/orgs/371082", headers=auth(token))).status_code == 200
    other = await client.get("/orgs/370102", headers=auth(token))
    assert other.status_code == 404 and other.json()["code"] == "org_not_found"
    hidden = await client.get("/orgs", params={"parent_id": "370100"}, headers=auth(token))
    assert hidden.status_code == 404


async def test_a_forged_cursor_is_a_422_not_a_500(
    client: httpx.AsyncClient, token_for: Callable[..., str]
) -> None:
    r = await client.get(
        "/orgs",
        params={"parent_id": "370000", "cursor": "not-a-cursor!"},
        headers=auth(token_for("province_admin", PROVINCE)),
    )
    assert r.status_code == 422 and r.json()["code"] == "invalid_cursor"
