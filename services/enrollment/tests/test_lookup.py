"""教师批量查询 (POST /teachers/lookup): many teachers at once for exports, limited to the
caller's subtree, full ID numbers only for the teacher's school and county admins (logged)."""

from __future__ import annotations

from collections.abc import Callable

import httpx

from services.enrollment.tests.conftest import LIXIA_SCHOOL, RONGCHENG_SCHOOL
from services.enrollment.tests.test_teachers import add_teacher, auth


async def test_lookup_reveals_id_numbers_only_to_school_and_county_admins(
    client: httpx.AsyncClient, token_for: Callable[..., str]
) -> None:
    lixia = await add_teacher(client, token_for, LIXIA_SCHOOL, name="张老师")
    rongcheng = await add_teacher(client, token_for, RONGCHENG_SCHOOL, name="刘老师")
    body = {"ids": [lixia["id"], rongcheng["id"]], "reveal": "id_number"}

    county = auth(token_for("county_admin", LIXIA_SCHOOL[:3]))
    r = await client.post("/teachers/lookup", json=body, headers=county)
    assert r.status_code == 200, r.text
    [card] = r.json()["items"]  # the other city's teacher is simply absent
    assert card["id"] == lixia["id"] and card["name"] == "张老师"
    assert card["id_number"] == lixia["full_id_number"] and card["id_number_revealed"] is True
    assert (card["school_name"], card["county_name"], card["city_name"]) == (
        "历下区实验小学",
        "历下区",
        "济南市",
    )

    for path in (LIXIA_SCHOOL[:2], LIXIA_SCHOOL[:1]):  # city and province: masked
        admin = auth(token_for("city_admin" if len(path) == 2 else "province_admin", path))
        r = await client.post("/teachers/lookup", json=body, headers=admin)
        cards = {c["id"]: c for c in r.json()["items"]}
        assert cards[lixia["id"]]["id_number_revealed"] is False
        assert "*" in cards[lixia["id"]]["id_number"]
        assert cards[lixia["id"]]["id_number"] != lixia["full_id_number"]

    r = await client.post(
        "/teachers/lookup", json={"ids": [lixia["id"]]}, headers=county
    )  # not asked: masked even for the county
    assert r.json()["items"][0]["id_number_revealed"] is False


async def test_each_lookup_reveal_is_written_to_the_history(
    client: httpx.AsyncClient, token_for: Callable[..., str]
) -> None:
    teacher = await add_teacher(client, token_for, LIXIA_SCHOOL)
    school = auth(token_for("school_admin", LIXIA_SCHOOL))
    r = await client.post(
        "/teachers/lookup", json={"ids": [teacher["id"]], "reveal": "id_number"}, headers=school
    )
    assert r.json()["items"][0]["id_number_revealed"] is True
    history = await client.get(f"/teachers/{teacher['id']}/history", headers=school)
    assert "reveal_id_number" in [h["action"] for h in history.json()["items"]]


async def test_lookup_is_for_admins_and_bounded(
    client: httpx.AsyncClient, token_for: Callable[..., str]
) -> None:
    teacher = await add_teacher(client, token_for, LIXIA_SCHOOL)
    as_teacher = auth(token_for("teacher", LIXIA_SCHOOL, teacher_id=teacher["id"]))
    r = await client.post("/teachers/lookup", json={"ids": [teacher["id"]]}, headers=as_teacher)
    assert r.status_code == 403
    admin = auth(token_for("county_admin", LIXIA_SCHOOL[:3]))
    r = await client.post("/teachers/lookup", json={"ids": []}, headers=admin)
    assert r.status_code == 422 and r.json()["code"] == "validation_failed"
