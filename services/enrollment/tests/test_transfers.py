"""Transfers (调动) and departures (离职), as Annex 1 of the 2020 notice says."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import httpx
import pytest

from services.enrollment.tests.conftest import LIXIA_SCHOOL, RONGCHENG_SCHOOL
from services.enrollment.tests.test_teachers import add_teacher, auth, events, history

PROVINCE = ["370000"]
JINAN = LIXIA_SCHOOL[:2]
LIXIA = LIXIA_SCHOOL[:3]
RONGCHENG = RONGCHENG_SCHOOL[:3]


async def add_school(
    client: httpx.AsyncClient, token_for: Callable[..., str], county: list[str], name: str
) -> list[str]:
    r = await client.post(
        "/orgs",
        json={"parent_id": county[-1], "name": name},
        headers=auth(token_for("county_admin", county)),
    )
    assert r.status_code == 201, r.text
    return [*county, r.json()["id"]]


async def transfer(
    client: httpx.AsyncClient, token: str, teacher: dict[str, Any], school: list[str]
) -> httpx.Response:
    return await client.post(
        f"/teachers/{teacher['id']}/transfer",
        json={"to_school_id": school[-1]},
        headers=auth(token),
    )


async def depart(
    client: httpx.AsyncClient, token_for: Callable[..., str], teacher: dict[str, Any]
) -> None:
    school = [teacher["city_id"][:2] + "0000", teacher["city_id"], teacher["county_id"]]
    r = await client.post(
        f"/teachers/{teacher['id']}/depart",
        headers=auth(token_for("school_admin", [*school, teacher["school_id"]])),
    )
    assert r.status_code == 200 and r.json()["status"] == "departed", r.text


async def test_departed_teacher_can_be_taken_in_by_any_school_admin(
    client: httpx.AsyncClient, token_for: Callable[..., str]
) -> None:
    teacher = await add_teacher(client, token_for, LIXIA_SCHOOL)
    await depart(client, token_for, teacher)
    weihai_admin = token_for("school_admin", RONGCHENG_SCHOOL)
    found = await client.get(
        "/teachers/departed",
        params={"id_number": teacher["full_id_number"]},
        headers=auth(weihai_admin),
    )
    assert [t["id"] for t in found.json()["items"]] == [teacher["id"]]
    assert "*" in found.json()["items"][0]["id_number"]
    r = await transfer(client, weihai_admin, teacher, RONGCHENG_SCHOOL)
    assert r.status_code == 200, r.text
    assert (r.json()["school_id"], r.json()["city_id"], r.json()["status"]) == (
        RONGCHENG_SCHOOL[-1],
        "371000",
        "active",
    )
    [event] = await events(client, "enrollment.teacher_transferred")
    data = event["data"]
    assert data["from_departed_pool"] is True
    assert data["from_org"]["school_id"] == LIXIA_SCHOOL[-1]
    assert data["to_org"]["school_id"] == data["org"]["school_id"] == RONGCHENG_SCHOOL[-1]
    assert teacher["full_id_number"] not in str(event)
    # Lixia no longer sees the teacher; Rongcheng sees the whole history.
    gone = await client.get(
        f"/teachers/{teacher['id']}", headers=auth(token_for("county_admin", LIXIA))
    )
    assert gone.status_code == 404
    actions = [c["action"] for c in await history(client, weihai_admin, teacher["id"])]
    assert actions == ["create", "depart", "take_in"]


async def test_school_admin_takes_in_departed_teachers_only_into_its_own_school(
    client: httpx.AsyncClient, token_for: Callable[..., str]
) -> None:
    teacher = await add_teacher(client, token_for, LIXIA_SCHOOL)
    await depart(client, token_for, teacher)
    r = await transfer(client, token_for("school_admin", RONGCHENG_SCHOOL), teacher, LIXIA_SCHOOL)
    assert r.status_code == 403 and r.json()["code"] == "transfer_not_allowed"


async def test_school_admin_cannot_take_an_active_teacher_from_another_school(
    client: httpx.AsyncClient, token_for: Callable[..., str]
) -> None:
    # An active teacher of another school is not in the caller's scope: it does not exist for
    # it (only the departed pool is open province-wide), whatever school it names as target.
    other = await add_school(client, token_for, LIXIA, "历下区第二实验小学")
    teacher = await add_teacher(client, token_for, LIXIA_SCHOOL)
    r = await transfer(client, token_for("school_admin", other), teacher, other)
    assert r.status_code == 404 and r.json()["code"] == "teacher_not_found"
    assert "required_role" not in r.json()
    assert r.headers["content-type"].startswith("application/problem+json")


async def test_cross_school_transfer_needs_county_admin(
    client: httpx.AsyncClient, token_for: Callable[..., str]
) -> None:
    other = await add_school(client, token_for, LIXIA, "历下区第三实验小学")
    teacher = await add_teacher(client, token_for, LIXIA_SCHOOL)
    refused = await transfer(client, token_for("school_admin", LIXIA_SCHOOL), teacher, other)
    assert refused.status_code == 403 and refused.json()["required_role"] == "county_admin"
    body = refused.json()
    assert body["code"] == "transfer_not_allowed"
    assert "县（市、区）管理员" in body["message_zh"] and "county admin" in body["message_en"]
    r = await transfer(client, token_for("county_admin", LIXIA), teacher, other)
    assert r.status_code == 200, r.text
    assert r.json()["school_id"] == other[-1]
    [event] = await events(client, "enrollment.teacher_transferred")
    assert event["data"]["from_departed_pool"] is False
    assert (event["data"]["stage"], event["data"]["subject"]) == ("primary", "语文")


async def test_cross_county_transfer_needs_city_admin(
    client: httpx.AsyncClient, token_for: Callable[..., str]
) -> None:
    shizhong = await add_school(client, token_for, [*JINAN, "370103"], "市中区实验小学")
    teacher = await add_teacher(client, token_for, LIXIA_SCHOOL)
    r = await transfer(client, token_for("county_admin", LIXIA), teacher, shizhong)
    assert r.status_code == 403, r.text
    assert r.json()["required_role"] == "city_admin"
    assert "市级管理员" in r.json()["message_zh"]
    # The receiving county does not cover the teacher: for it the teacher does not exist.
    r = await transfer(client, token_for("county_admin", shizhong[:3]), teacher, shizhong)
    assert r.status_code == 404 and r.json()["code"] == "teacher_not_found"
    r = await transfer(client, token_for("city_admin", JINAN), teacher, shizhong)
    assert r.status_code == 200 and r.json()["county_id"] == "370103", r.text


async def test_cross_city_transfer_needs_province_admin(
    client: httpx.AsyncClient, token_for: Callable[..., str]
) -> None:
    teacher = await add_teacher(client, token_for, LIXIA_SCHOOL)
    r = await transfer(client, token_for("city_admin", JINAN), teacher, RONGCHENG_SCHOOL)
    assert r.status_code == 403 and r.json()["required_role"] == "province_admin"
    assert "省级管理员" in r.json()["message_zh"]
    r = await transfer(client, token_for("city_admin", RONGCHENG[:2]), teacher, RONGCHENG_SCHOOL)
    assert r.status_code == 404 and r.json()["code"] == "teacher_not_found"
    r = await transfer(client, token_for("province_admin", PROVINCE), teacher, RONGCHENG_SCHOOL)
    assert r.status_code == 200 and r.json()["city_id"] == "371000", r.text
    actions = [
        c["action"]
        for c in await history(client, token_for("province_admin", PROVINCE), teacher["id"])
    ]
    assert actions == ["create", "transfer"]


async def test_departure_keeps_the_record_and_history(
    client: httpx.AsyncClient, token_for: Callable[..., str]
) -> None:
    teacher = await add_teacher(client, token_for, LIXIA_SCHOOL)
    token = token_for("county_admin", LIXIA)
    await client.patch(f"/teachers/{teacher['id']}", json={"name": "李老师二"}, headers=auth(token))
    await depart(client, token_for, teacher)
    r = await client.get(f"/teachers/{teacher['id']}", headers=auth(token))
    assert r.status_code == 200 and r.json()["status"] == "departed"
    assert r.json()["name"] == "李老师二"
    actions = [c["action"] for c in await history(client, token, teacher["id"])]
    assert actions == ["create", "update", "depart"]
    listed = await client.get("/teachers", params={"status": "departed"}, headers=auth(token))
    assert [t["id"] for t in listed.json()["items"]] == [teacher["id"]]
    again = await client.post(f"/teachers/{teacher['id']}/depart", headers=auth(token))
    assert again.status_code == 409 and again.json()["code"] == "already_departed"
    [event] = await events(client, "enrollment.teacher_departed")
    assert event["data"]["org"]["school_id"] == LIXIA_SCHOOL[-1]
    assert event["data"]["stage"] == "primary"


@pytest.mark.parametrize("role", ["school_admin", "county_admin"])
async def test_departure_needs_an_admin_covering_the_teacher(
    client: httpx.AsyncClient, token_for: Callable[..., str], role: str
) -> None:
    teacher = await add_teacher(client, token_for, RONGCHENG_SCHOOL)
    path = LIXIA_SCHOOL if role == "school_admin" else LIXIA
    r = await client.post(f"/teachers/{teacher['id']}/depart", headers=auth(token_for(role, path)))
    assert r.status_code == 404 and r.json()["code"] == "teacher_not_found"


async def test_transfer_to_the_same_school_is_refused(
    client: httpx.AsyncClient, token_for: Callable[..., str]
) -> None:
    teacher = await add_teacher(client, token_for, LIXIA_SCHOOL)
    r = await transfer(client, token_for("county_admin", LIXIA), teacher, LIXIA_SCHOOL)
    assert r.status_code == 422 and r.json()["code"] == "same_school"


async def test_a_retried_transfer_with_the_same_idempotency_key_moves_once(
    client: httpx.AsyncClient, token_for: Callable[..., str]
) -> None:
    other = await add_school(client, token_for, LIXIA, "历下区第四实验小学")
    teacher = await add_teacher(client, token_for, LIXIA_SCHOOL)
    token = token_for("county_admin", LIXIA, user_id="lixia-county-1")
    answers = [
        await client.post(
            f"/teachers/{teacher['id']}/transfer",
            json={"to_school_id": other[-1]},
            headers={**auth(token), "Idempotency-Key": "move-1"},
        )
        for _ in range(2)
    ]
    assert [a.status_code for a in answers] == [200, 200]
    assert answers[1].headers.get("idempotent-replayed") == "true"
    assert answers[0].json() == answers[1].json()
    assert len(await events(client, "enrollment.teacher_transferred")) == 1
