"""Teacher records (教师信息): listing in scope, correction and supplement, 核实, history, and who
may see the full ID number."""

from __future__ import annotations

import itertools
import json
from collections.abc import Callable
from typing import Any

import httpx
from sqlalchemy import select

from enrollment.idcard import check_digit
from services.enrollment.tests.conftest import LIXIA_SCHOOL, RONGCHENG_SCHOOL

PROVINCE = ["370000"]
JINAN = LIXIA_SCHOOL[:2]
LIXIA = LIXIA_SCHOOL[:3]
RONGCHENG = RONGCHENG_SCHOOL[:3]
_serial = itertools.count(1)


def new_id_number(region: str = "370102", born: str = "19850101") -> str:
    first17 = f"{region}{born}{next(_serial) % 1000:03d}"
    return first17 + check_digit(first17)


def auth(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


async def add_teacher(
    client: httpx.AsyncClient, token_for: Callable[..., str], school: list[str], **extra: Any
) -> dict[str, Any]:
    body = {
        "name": "李老师",
        "school_id": school[-1],
        "stage": "primary",
        "subject": "语文",
        "is_rural": False,
        "id_number": new_id_number(),
        "phone": "13812345678",
        **extra,
    }
    r = await client.post("/teachers", json=body, headers=auth(token_for("school_admin", school)))
    assert r.status_code == 201, r.text
    return {**r.json(), "full_id_number": body["id_number"]}


async def events(client: httpx.AsyncClient, event_type: str) -> list[dict[str, Any]]:
    """The outbox rows of one type, as envelopes."""
    rt = client.app.state.runtime  # type: ignore[attr-defined]
    outbox = rt.spec.table("outbox")
    async with rt.session_factory() as session:
        rows = await session.execute(
            select(outbox.c.payload).where(outbox.c.event_type == event_type).order_by(outbox.c.id)
        )
        return [json.loads(p) for p in rows.scalars()]


async def history(client: httpx.AsyncClient, token: str, teacher_id: str) -> list[dict[str, Any]]:
    r = await client.get(f"/teachers/{teacher_id}/history", headers=auth(token))
    assert r.status_code == 200, r.text
    return list(r.json()["items"])


async def test_county_admin_cannot_read_teacher_of_another_county(
    client: httpx.AsyncClient, token_for: Callable[..., str]
) -> None:
    teacher = await add_teacher(client, token_for, RONGCHENG_SCHOOL)
    token = token_for("county_admin", LIXIA)
    for path in ("", "/history"):
        r = await client.get(f"/teachers/{teacher['id']}{path}", headers=auth(token))
        assert r.status_code == 404 and r.json()["code"] == "teacher_not_found"
    r = await client.patch(f"/teachers/{teacher['id']}", json={"name": "改名"}, headers=auth(token))
    assert r.status_code == 404
    listed = await client.get("/teachers", headers=auth(token))
    assert teacher["id"] not in {t["id"] for t in listed.json()["items"]}
    other = await client.get("/teachers", params={"county_id": "371082"}, headers=auth(token))
    assert other.status_code == 404


async def test_list_is_scoped_filtered_masked_and_cursor_paginated(
    client: httpx.AsyncClient, token_for: Callable[..., str]
) -> None:
    made = [
        await add_teacher(client, token_for, LIXIA_SCHOOL, name=f"王{i}", subject=subject)
        for i, subject in enumerate(["语文", "数学", "语文", "数学", "语文"])
    ]
    await add_teacher(client, token_for, RONGCHENG_SCHOOL, name="王荣")
    token = token_for("city_admin", JINAN)
    seen: list[dict[str, Any]] = []
    cursor = None
    while True:
        params: dict[str, Any] = {"limit": 2, "county_id": "370102"}
        if cursor:
            params["cursor"] = cursor
        r = await client.get("/teachers", params=params, headers=auth(token))
        assert r.status_code == 200, r.text
        seen += r.json()["items"]
        cursor = r.json()["next_cursor"]
        if cursor is None:
            break
    assert {t["id"] for t in seen} == {t["id"] for t in made}
    assert all("*" in t["id_number"] and "*" in t["phone"] for t in seen)
    chinese = await client.get(
        "/teachers", params={"subject": "数学", "name": "王"}, headers=auth(token)
    )
    assert len(chinese.json()["items"]) == 2
    province = await client.get(
        "/teachers", params={"name": "王荣"}, headers=auth(token_for("province_admin", PROVINCE))
    )
    assert [t["name"] for t in province.json()["items"]] == ["王荣"]
    assert (await client.get("/teachers", params={"verified": "true"}, headers=auth(token))).json()[
        "items"
    ] == []


async def test_lookup_by_id_number_uses_the_blind_index(
    client: httpx.AsyncClient, token_for: Callable[..., str]
) -> None:
    teacher = await add_teacher(client, token_for, LIXIA_SCHOOL)
    await add_teacher(client, token_for, LIXIA_SCHOOL)
    token = token_for("county_admin", LIXIA)
    # Spreadsheets deliver lower-case x and spaces; the index is of the normalised number.
    r = await client.get(
        "/teachers",
        params={"id_number": " " + teacher["full_id_number"].lower()},
        headers=auth(token),
    )
    assert [t["id"] for t in r.json()["items"]] == [teacher["id"]]
    bad = await client.get(
        "/teachers", params={"id_number": "370102198501011234"}, headers=auth(token)
    )
    assert bad.status_code == 422 and bad.json()["code"] == "invalid_id_number"


async def test_full_id_number_only_for_allowed_admins(
    client: httpx.AsyncClient, token_for: Callable[..., str]
) -> None:
    teacher = await add_teacher(client, token_for, LIXIA_SCHOOL)
    url = f"/teachers/{teacher['id']}"
    full = teacher["full_id_number"]
    for role, path in [("school_admin", LIXIA_SCHOOL), ("county_admin", LIXIA)]:
        r = await client.get(
            url, params={"reveal": "id_number"}, headers=auth(token_for(role, path))
        )
        assert r.status_code == 200 and r.json()["id_number"] == full
    for role, path in [("city_admin", JINAN), ("province_admin", PROVINCE)]:
        r = await client.get(
            url, params={"reveal": "id_number"}, headers=auth(token_for(role, path))
        )
        assert r.status_code == 403 and r.json()["code"] == "reveal_not_allowed"
    plain = await client.get(url, headers=auth(token_for("school_admin", LIXIA_SCHOOL)))
    assert plain.json()["id_number"] == full[:6] + "********" + full[-4:]
    changes = await history(client, token_for("county_admin", LIXIA), teacher["id"])
    reveals = [c for c in changes if c["action"] == "reveal_id_number"]
    assert [c["changed_by_role"] for c in reveals] == ["school_admin", "county_admin"]
    assert full not in json.dumps(changes)


async def test_correction_rewrites_fields_and_keeps_before_and_after(
    client: httpx.AsyncClient, token_for: Callable[..., str]
) -> None:
    teacher = await add_teacher(client, token_for, LIXIA_SCHOOL)
    token = token_for("school_admin", LIXIA_SCHOOL)
    r = await client.patch(
        f"/teachers/{teacher['id']}",
        json={"subject": "数学", "is_rural": True, "phone": None},
        headers=auth(token),
    )
    assert r.status_code == 200, r.text
    body = r.json()
    assert (body["subject"], body["is_rural"], body["phone"]) == ("数学", True, None)
    update = (await history(client, token, teacher["id"]))[-1]
    assert update["action"] == "update" and update["changed_by_role"] == "school_admin"
    assert update["before"] == {"subject": "语文", "is_rural": False, "phone": "138****5678"}
    assert update["after"] == {"subject": "数学", "is_rural": True, "phone": None}
    [event] = (await events(client, "enrollment.teacher_updated"))[-1:]
    assert event["data"]["changed_fields"] == ["subject", "is_rural", "phone"]
    assert event["data"]["org"]["school_id"] == LIXIA_SCHOOL[-1]
    wrong = await client.patch(
        f"/teachers/{teacher['id']}", json={"subject": "物理"}, headers=auth(token)
    )
    assert wrong.status_code == 422 and wrong.json()["code"] == "unknown_subject"


async def test_id_number_unique_across_the_province(
    client: httpx.AsyncClient, token_for: Callable[..., str]
) -> None:
    jinan = await add_teacher(client, token_for, LIXIA_SCHOOL)
    weihai = await add_teacher(client, token_for, RONGCHENG_SCHOOL)
    twin = await client.post(
        "/teachers",
        json={
            "name": "重复",
            "school_id": RONGCHENG_SCHOOL[-1],
            "stage": "primary",
            "subject": "语文",
            "is_rural": True,
            "id_number": jinan["full_id_number"],
        },
        headers=auth(token_for("school_admin", RONGCHENG_SCHOOL)),
    )
    assert twin.status_code == 409 and twin.json()["code"] == "duplicate_id_number"
    taken = await client.patch(
        f"/teachers/{weihai['id']}",
        json={"id_number": jinan["full_id_number"]},
        headers=auth(token_for("county_admin", RONGCHENG)),
    )
    assert taken.status_code == 409 and taken.json()["code"] == "duplicate_id_number"


async def test_changing_the_id_number_revalidates_reencrypts_and_unverifies(
    client: httpx.AsyncClient, token_for: Callable[..., str]
) -> None:
    teacher = await add_teacher(client, token_for, LIXIA_SCHOOL)
    token = token_for("county_admin", LIXIA)
    url = f"/teachers/{teacher['id']}"
    assert (await client.post(f"{url}/verify", headers=auth(token))).json()["verified"] is True
    invalid = await client.patch(url, json={"id_number": "370102198501011230"}, headers=auth(token))
    assert invalid.status_code == 422 and invalid.json()["code"] == "invalid_id_number"
    new = new_id_number(born="19920229")
    r = await client.patch(url, json={"id_number": new}, headers=auth(token))
    assert r.status_code == 200, r.text
    assert r.json()["birth_date"] == "1992-02-29" and r.json()["verified"] is False
    shown = await client.get(url, params={"reveal": "id_number"}, headers=auth(token))
    assert shown.json()["id_number"] == new
    found = await client.get("/teachers", params={"id_number": new}, headers=auth(token))
    assert [t["id"] for t in found.json()["items"]] == [teacher["id"]]
    old = await client.get(
        "/teachers", params={"id_number": teacher["full_id_number"]}, headers=auth(token)
    )
    assert old.json()["items"] == []
    update = [c for c in await history(client, token, teacher["id"]) if c["action"] == "update"]
    assert new not in json.dumps(update) and "*" in update[0]["after"]["id_number"]
    published = json.dumps(await events(client, "enrollment.teacher_updated"))
    assert new not in published and teacher["full_id_number"] not in published


async def test_verify_records_who_verified_and_emits_an_update(
    client: httpx.AsyncClient, token_for: Callable[..., str]
) -> None:
    teacher = await add_teacher(client, token_for, LIXIA_SCHOOL)
    token = token_for("school_admin", LIXIA_SCHOOL, user_id="admin-lixia-1")
    r = await client.post(f"/teachers/{teacher['id']}/verify", headers=auth(token))
    assert r.status_code == 200 and r.json()["verified"] is True
    verify = (await history(client, token, teacher["id"]))[-1]
    assert (verify["action"], verify["changed_by"]) == ("verify", "admin-lixia-1")
    assert verify["before"] == {"verified": False} and verify["after"] == {"verified": True}
    listed = await client.get("/teachers", params={"verified": "true"}, headers=auth(token))
    assert [t["id"] for t in listed.json()["items"]] == [teacher["id"]]


async def test_teacher_created_event_carries_org_path_and_never_the_id_number(
    client: httpx.AsyncClient, token_for: Callable[..., str]
) -> None:
    teacher = await add_teacher(
        client, token_for, RONGCHENG_SCHOOL, stage="junior_high", subject="数学"
    )
    [event] = await events(client, "enrollment.teacher_created")
    assert event["key"] == teacher["id"]
    assert event["data"]["org"] == dict(
        zip(["province_id", "city_id", "county_id", "school_id"], RONGCHENG_SCHOOL, strict=True)
    )
    assert (event["data"]["stage"], event["data"]["subject"]) == ("junior_high", "数学")
    assert teacher["full_id_number"] not in json.dumps(event)
    assert "13812345678" not in json.dumps(event)
    [created] = await history(client, token_for("county_admin", RONGCHENG), teacher["id"])
    assert created["action"] == "create" and created["after"]["id_number"].count("*") == 8


async def test_teachers_cannot_list_or_change_records(
    client: httpx.AsyncClient, token_for: Callable[..., str]
) -> None:
    teacher = await add_teacher(client, token_for, LIXIA_SCHOOL)
    token = token_for("teacher", LIXIA_SCHOOL, teacher_id=teacher["id"])
    assert (await client.get(f"/teachers/{teacher['id']}", headers=auth(token))).status_code == 200
    assert (await client.get("/teachers", headers=auth(token))).status_code == 403
    r = await client.patch(f"/teachers/{teacher['id']}", json={"name": "自改"}, headers=auth(token))
    assert r.status_code == 403


async def test_a_retried_creation_with_the_same_idempotency_key_creates_once(
    client: httpx.AsyncClient, token_for: Callable[..., str]
) -> None:
    body = {
        "name": "赵老师",
        "school_id": LIXIA_SCHOOL[-1],
        "stage": "primary",
        "subject": "数学",
        "is_rural": True,
        "id_number": new_id_number(),
    }
    headers = {
        **auth(token_for("school_admin", LIXIA_SCHOOL, user_id="s1")),
        "Idempotency-Key": "k1",
    }
    first = await client.post("/teachers", json=body, headers=headers)
    again = await client.post("/teachers", json=body, headers=headers)
    assert (first.status_code, again.status_code) == (201, 201)
    assert first.json()["id"] == again.json()["id"]
    other = await client.post(
        "/teachers", json={**body, "id_number": new_id_number()}, headers=headers
    )
    assert other.status_code == 422 and other.json()["code"] == "idempotency_key_reused"
    assert len(await events(client, "enrollment.teacher_created")) == 1
