"""Regions as data (issue #14.4): Guangdong (Zhaoqing) and Anhui (Hefei) ship beside Shandong,
schools, teachers and registrations work there exactly as in Shandong, each province's admins
see only their province, and a project belongs to the province or city that runs it and names
its rule set."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

import httpx
import pytest
from sqlalchemy import select

from enrollment.idcard import check_digit
from yanxiu.contracts.envelope import Envelope

TODAY = date.today()
_serial = iter(range(1, 10**6))


@dataclass(frozen=True)
class Region:
    province: str
    city: str
    county: str
    rule_set: str
    school_name: str
    counties: dict[str, str]


ZHAOQING = Region(
    province="440000",
    city="441200",
    county="441202",
    rule_set="zhaoqing",
    school_name="肇庆市端州区第一小学",
    counties={
        "441202": "端州区",
        "441203": "鼎湖区",
        "441204": "高要区",
        "441223": "广宁县",
        "441224": "怀集县",
        "441225": "封开县",
        "441226": "德庆县",
        "441284": "四会市",
    },
)
HEFEI = Region(
    province="340000",
    city="340100",
    county="340104",
    rule_set="hefei-it2-2021",
    school_name="合肥市蜀山区实验小学",
    counties={
        "340102": "瑶海区",
        "340103": "庐阳区",
        "340104": "蜀山区",
        "340111": "包河区",
        "340121": "长丰县",
        "340122": "肥东县",
        "340123": "肥西县",
        "340124": "庐江县",
        "340181": "巢湖市",
    },
)
REGIONS = [pytest.param(ZHAOQING, id="zhaoqing"), pytest.param(HEFEI, id="hefei")]


def auth(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def id_number(county: str) -> str:
    first17 = f"{county}19880612{next(_serial) % 1000:03d}"
    return first17 + check_digit(first17)


def windows(**over: Any) -> dict[str, Any]:
    return {
        "year": TODAY.year,
        "stage": "primary",
        "registration_opens_on": str(TODAY - timedelta(days=1)),
        "registration_closes_on": str(TODAY + timedelta(days=30)),
        **over,
    }


async def outbox_events(client: httpx.AsyncClient, event_type: str) -> list[dict[str, Any]]:
    rt = client.app.state.runtime  # type: ignore[attr-defined]
    outbox = rt.spec.table("outbox")
    async with rt.session_factory() as session:
        rows = await session.execute(
            select(outbox.c.payload).where(outbox.c.event_type == event_type)
        )
        return [Envelope.read(p).data for p in rows.scalars()]


async def test_guangdong_and_anhui_ship_with_zhaoqing_and_hefei_counties_by_official_code(
    client: httpx.AsyncClient, token_for: Callable[..., str]
) -> None:
    for region in (ZHAOQING, HEFEI):
        admin = auth(token_for("province_admin", [region.province]))
        r = await client.get("/orgs", params={"parent_id": region.city}, headers=admin)
        assert r.status_code == 200, r.text
        listed = {o["id"]: o["name"] for o in r.json()["items"]}
        assert listed == region.counties
        for county in r.json()["items"]:
            assert county["level"] == "county"
            assert (county["province_id"], county["city_id"]) == (region.province, region.city)


async def test_a_province_admin_sees_only_its_own_province(
    client: httpx.AsyncClient, token_for: Callable[..., str]
) -> None:
    guangdong = auth(token_for("province_admin", ["440000"]))
    roots = (await client.get("/orgs", headers=guangdong)).json()["items"]
    assert [o["id"] for o in roots] == ["440000"]
    for elsewhere in ("370000", "370100", "340100", "340104"):
        r = await client.get(f"/orgs/{elsewhere}", headers=guangdong)
        assert (r.status_code, r.json()["code"]) == (404, "org_not_found")
    shandong = auth(token_for("province_admin", ["370000"]))
    assert (await client.get("/orgs/441200", headers=shandong)).status_code == 404
    r = await client.get("/orgs", params={"parent_id": "340100"}, headers=shandong)
    assert r.status_code == 404


@pytest.mark.parametrize("region", REGIONS)
async def test_school_teacher_and_registration_work_in_the_region_as_in_shandong(
    client: httpx.AsyncClient, token_for: Callable[..., str], region: Region
) -> None:
    """新增学校 → 开放项目 (the city's own programme, naming its rule set) → 开放参训区域 →
    参训单位 → 教师信息采集与审核 → 报名, each by the admin of its level in the region."""
    city_path = [region.province, region.city]
    county_path = [*city_path, region.county]
    county = auth(token_for("county_admin", county_path))
    r = await client.post(
        "/orgs", json={"parent_id": region.county, "name": region.school_name}, headers=county
    )
    assert r.status_code == 201, r.text
    school = r.json()
    assert school["id"] == f"{region.county}-S001"
    school_path = [*county_path, school["id"]]

    city = auth(token_for("city_admin", city_path))
    r = await client.post(
        "/projects",
        json=windows(name=f"{TODAY.year}年全员培训 小学", rule_set=region.rule_set),
        headers=city,
    )
    assert r.status_code == 201, r.text
    project = r.json()
    assert (project["owner_org_id"], project["rule_set"]) == (region.city, region.rule_set)
    base = f"/projects/{project['id']}"
    r = await client.post(f"{base}/counties", json={"org_ids": [region.county]}, headers=city)
    assert r.status_code == 200, r.text
    r = await client.post(f"{base}/schools", json={"org_ids": [school["id"]]}, headers=county)
    assert r.status_code == 200, r.text

    school_admin = auth(token_for("school_admin", school_path))
    r = await client.post(
        "/teachers",
        json={
            "name": "欧阳娜娜",
            "id_number": id_number(region.county),
            "school_id": school["id"],
            "stage": "primary",
            "subject": "语文",
            "is_rural": True,
        },
        headers=school_admin,
    )
    assert r.status_code == 201, r.text
    teacher = r.json()
    assert (teacher["city_id"], teacher["county_id"]) == (region.city, region.county)
    r = await client.post(f"/teachers/{teacher['id']}/verify", headers=county)
    assert r.status_code == 200, r.text
    r = await client.post(
        f"{base}/registrations",
        json={"teacher_id": teacher["id"], "subject": "语文"},
        headers=school_admin,
    )
    assert r.status_code == 201, r.text

    province = auth(token_for("province_admin", [region.province]))
    listed = await client.get(f"{base}/registrations", headers=province)
    assert [i["teacher_id"] for i in listed.json()["items"]] == [teacher["id"]]
    opened = (await outbox_events(client, "enrollment.project_opened"))[-1]
    assert opened["owner_org_id"] == region.city
    assert opened["owner_org_path"] == city_path
    assert opened["rule_set"] == region.rule_set
    registered = (await outbox_events(client, "enrollment.teacher_registered"))[-1]
    assert registered["org"] == {
        "province_id": region.province,
        "city_id": region.city,
        "county_id": region.county,
        "school_id": school["id"],
    }
    assert registered["project_owner_org_id"] == region.city
    assert registered["rule_set"] == region.rule_set


async def test_a_project_is_out_of_reach_outside_its_owner_and_above_it(
    client: httpx.AsyncClient, token_for: Callable[..., str]
) -> None:
    """Hefei's programme: Anhui's province admin (above the owner) sees it; Shandong's province
    admin, Zhaoqing's city admin and another Anhui city's admin neither see nor work in it."""
    hefei = auth(token_for("city_admin", ["340000", "340100"]))
    r = await client.post("/projects", json=windows(name="合肥项目"), headers=hefei)
    assert r.status_code == 201, r.text
    pid = r.json()["id"]
    anhui = auth(token_for("province_admin", ["340000"]))
    assert pid in [p["id"] for p in (await client.get("/projects", headers=anhui)).json()]
    assert (await client.get(f"/projects/{pid}/counties", headers=anhui)).status_code == 200
    for outsider in (
        token_for("province_admin", ["370000"]),
        token_for("city_admin", ["440000", "441200"]),
        token_for("city_admin", ["340000", "340200"]),  # 芜湖市
    ):
        assert pid not in [
            p["id"] for p in (await client.get("/projects", headers=auth(outsider))).json()
        ]
        r = await client.get(f"/projects/{pid}/registrations", headers=auth(outsider))
        assert (r.status_code, r.json()["code"]) == (404, "project_not_found")
    r = await client.post(
        f"/projects/{pid}/counties",
        json={"org_ids": ["441202"]},
        headers=auth(token_for("city_admin", ["440000", "441200"])),
    )
    assert (r.status_code, r.json()["code"]) == (404, "project_not_found")


async def test_registration_stays_inside_the_project_owners_subtree(
    client: httpx.AsyncClient, token_for: Callable[..., str]
) -> None:
    """A Shandong province project is not open to a Zhaoqing school, even with every step of
    its own cascade done by Zhaoqing's admins."""
    shandong = auth(token_for("province_admin", ["370000"]))
    r = await client.post("/projects", json=windows(name="山东项目"), headers=shandong)
    pid = r.json()["id"]
    county_path = ["440000", "441200", "441202"]
    county = auth(token_for("county_admin", county_path))
    school = (
        await client.post(
            "/orgs", json={"parent_id": "441202", "name": "端州区二小"}, headers=county
        )
    ).json()
    r = await client.post(
        f"/projects/{pid}/counties",
        json={"org_ids": ["441202"]},
        headers=auth(token_for("city_admin", county_path[:2])),
    )
    assert (r.status_code, r.json()["code"]) == (404, "project_not_found")
    r = await client.post(
        f"/projects/{pid}/schools", json={"org_ids": [school["id"]]}, headers=county
    )
    assert (r.status_code, r.json()["code"]) == (404, "project_not_found")
    r = await client.post(
        f"/projects/{pid}/registrations",
        json={"teacher_id": str(uuid.uuid4()), "subject": "语文"},
        headers=auth(token_for("school_admin", [*county_path, school["id"]])),
    )
    assert (r.status_code, r.json()["code"]) == (404, "project_not_found")


async def test_a_project_belongs_to_a_province_or_a_city_at_or_below_its_opener(
    client: httpx.AsyncClient, token_for: Callable[..., str]
) -> None:
    anhui = auth(token_for("province_admin", ["340000"]))
    r = await client.post(
        "/projects", json=windows(name="合肥信息技术2.0", owner_org_id="340100"), headers=anhui
    )
    assert r.status_code == 201 and r.json()["owner_org_id"] == "340100"
    r = await client.post("/projects", json=windows(name="安徽省项目"), headers=anhui)
    assert r.status_code == 201 and r.json()["owner_org_id"] == "340000"
    r = await client.post(
        "/projects", json=windows(name="县级项目", owner_org_id="340104"), headers=anhui
    )
    assert (r.status_code, r.json()["code"]) == (422, "project_owner_level")
    r = await client.post(
        "/projects", json=windows(name="他省项目", owner_org_id="441200"), headers=anhui
    )
    assert (r.status_code, r.json()["code"]) == (404, "org_not_found")
    r = await client.post(
        "/projects",
        json=windows(name="他市项目", owner_org_id="340200"),
        headers=auth(token_for("city_admin", ["340000", "340100"])),
    )
    assert (r.status_code, r.json()["code"]) == (404, "org_not_found")
    r = await client.post(
        "/projects", json=windows(name="x", rule_set="Hefei IT 2.0"), headers=anhui
    )
    assert r.status_code == 422


async def test_one_project_per_owner_year_and_stage(
    client: httpx.AsyncClient, token_for: Callable[..., str]
) -> None:
    """Shandong, Guangdong and Hefei each run a primary project this year; a second one of the
    same owner is refused."""
    for path in (["370000"], ["440000"], ["340000", "340100"]):
        role = "province_admin" if len(path) == 1 else "city_admin"
        r = await client.post(
            "/projects", json=windows(name="小学项目"), headers=auth(token_for(role, path))
        )
        assert r.status_code == 201, r.text
    r = await client.post(
        "/projects",
        json=windows(name="合肥第二个小学项目"),
        headers=auth(token_for("city_admin", ["340000", "340100"])),
    )
    assert (r.status_code, r.json()["code"]) == (409, "project_exists")
