"""审计日志 of credits: an offline record's entry, county review and city approval, and an
admin's ledger reversal are recorded with before and after, under the teacher's org; a county
lists its own subtree only; the table refuses UPDATE and DELETE."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError

from credits.ledger.models import Teacher
from credits.ledger.service import shanghai_day

PROVINCE, CITY, COUNTY, SCHOOL = "440000", "441200", "441202", "441202-S001"
TEACHER_ORG = [PROVINCE, CITY, COUNTY, SCHOOL]
OTHER_COUNTY = [PROVINCE, CITY, "441203"]
TODAY = shanghai_day(datetime.now(UTC)).isoformat()


async def known_teacher(client: httpx.AsyncClient) -> uuid.UUID:
    teacher = uuid.uuid4()
    rt = client.app.state.runtime  # type: ignore[attr-defined]
    async with rt.session_factory() as session, session.begin():
        session.add(
            Teacher(
                teacher_id=teacher,
                name="李四",
                province_id=PROVINCE,
                city_id=CITY,
                county_id=COUNTY,
                school_id=SCHOOL,
            )
        )
    return teacher


async def approved_record(client: httpx.AsyncClient, auth: Any, teacher: uuid.UUID) -> str:
    body = {
        "teacher_id": str(teacher),
        "teacher_name": "李四",
        "org": dict(
            zip(("province_id", "city_id", "county_id", "school_id"), TEACHER_ORG, strict=True)
        ),
        "training_name": "新课程方案培训",
        "category": "professional",
        "start_date": TODAY,
        "end_date": TODAY,
        "days": 1,
        "half_days": 0,
    }
    institution = auth("training_institution", [PROVINCE, CITY], user_id="institution-1")
    r = await client.post("/records", json=body, headers=institution)
    assert r.status_code == 201, r.text
    url = f"/records/{r.json()['id']}"
    county = auth("county_admin", TEACHER_ORG[:3], user_id="county-1")
    assert (
        await client.post(f"{url}/review", json={"decision": "pass"}, headers=county)
    ).is_success
    city = auth("city_admin", TEACHER_ORG[:2], user_id="city-1")
    r = await client.post(f"{url}/approval", json={"decision": "pass"}, headers=city)
    assert r.status_code == 200, r.text
    return str(r.json()["id"])


async def audit(client: httpx.AsyncClient, headers: dict[str, str], **params: Any) -> Any:
    r = await client.get("/audit", params=params, headers=headers)
    assert r.status_code == 200, r.text
    return r.json()


async def test_offline_record_steps_are_audited_with_before_and_after(
    client: httpx.AsyncClient, auth: Any
) -> None:
    teacher = await known_teacher(client)
    record = await approved_record(client, auth, teacher)
    page = await audit(client, auth("city_admin", TEACHER_ORG[:2]), target_id=record)
    steps = [(e["action"], e["actor_id"], e["actor_role"]) for e in page["items"]]
    assert steps == [
        ("record.approve", "city-1", "city_admin"),
        ("record.review", "county-1", "county_admin"),
        ("record.submit", "institution-1", "training_institution"),
    ]
    approve, review, submit = page["items"]
    assert submit["before"] is None and submit["after"]["status"] == "submitted"
    assert review["before"]["status"] == "submitted"
    assert review["after"]["status"] == "county_passed"
    assert approve["after"]["status"] == "approved" and approve["after"]["hours"] == "8.00"
    assert {tuple(e["target_org"]) for e in page["items"]} == {tuple(TEACHER_ORG)}


async def test_an_admin_reversal_is_audited_under_the_teachers_county(
    client: httpx.AsyncClient, auth: Any
) -> None:
    teacher = await known_teacher(client)
    await approved_record(client, auth, teacher)
    county = auth("county_admin", TEACHER_ORG[:3], user_id="county-1")
    [entry] = (await client.get(f"/ledger/{teacher}", headers=county)).json()["items"]
    r = await client.post(
        f"/ledger/{teacher}/reversals",
        json={"entry_id": entry["id"], "reason": "重复登记"},
        headers=county,
    )
    assert r.status_code == 201, r.text
    [reversal] = (await audit(client, county, action="ledger.reverse"))["items"]
    assert reversal["target_id"] == entry["id"] and reversal["target_org"] == TEACHER_ORG
    assert reversal["before"]["hours"] in ("8", "8.0", "8.00")
    assert reversal["after"]["reason"] == "重复登记" and reversal["after"]["reversal_id"]
    # The neighbouring county sees none of it; the province sees it all.
    assert (await audit(client, auth("county_admin", OTHER_COUNTY)))["items"] == []
    everything = await audit(client, auth("province_admin", [PROVINCE]))
    assert {e["action"] for e in everything["items"]} >= {"ledger.reverse", "record.approve"}


@pytest.mark.parametrize(
    ("role", "org"),
    [("teacher", TEACHER_ORG), ("school_admin", TEACHER_ORG), ("training_institution", [PROVINCE])],
)
async def test_teachers_schools_and_institutions_may_not_read_the_trail(
    client: httpx.AsyncClient, auth: Any, role: str, org: list[str]
) -> None:
    r = await client.get("/audit", headers=auth(role, org, teacher_id=str(uuid.uuid4())))
    assert r.status_code == 403 and r.json()["code"] == "audit_not_allowed"


async def test_audit_log_refuses_update_and_delete(client: httpx.AsyncClient, auth: Any) -> None:
    await approved_record(client, auth, await known_teacher(client))
    rt = client.app.state.runtime  # type: ignore[attr-defined]
    for statement in (
        "UPDATE credits.audit_log SET before = NULL",
        "DELETE FROM credits.audit_log",
    ):
        async with rt.session_factory() as session:
            with pytest.raises(DBAPIError, match="append-only"):
                await session.execute(text(statement))
