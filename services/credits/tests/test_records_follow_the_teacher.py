"""Records follow the teacher (issue #14 point 2) in credits, through enrollment's events on the
real broker and database: after a transfer the new school's admins read the ledger, balance and
certificates and its reports count the teacher's year; the old school's no longer do; the
entries keep the place they were booked at; years before the transfer stay where they were
earned; a departure changes nothing until a take-in moves the teacher. New hours are booked at
the teacher's stored place, whatever org a late event names, and count where their year is."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import httpx
from sqlalchemy import select, text

from credits.ledger import service as ledger
from credits.ledger.consumers import on_teacher_transferred
from credits.ledger.models import LedgerEntry, Teacher, TeacherYear
from yanxiu.contracts.enrollment import TeacherDeparted, TeacherTransferred, TeacherUpdated
from yanxiu.contracts.envelope import Event, OrgPath
from yanxiu.contracts.learning import CourseCompleted
from yanxiu.testing import eventually

# 肇庆 端州区 and 鼎湖区: the region counts 90 h a year (公需 30 + 专业 42 + 个人选修 18).
ZQ = OrgPath(province_id="440000", city_id="441200", county_id="441202", school_id="441202-S1")
ZQ_OTHER = OrgPath(
    province_id="440000", city_id="441200", county_id="441203", school_id="441203-S1"
)
NOW = datetime.now(UTC)
YEAR = ledger.shanghai_day(NOW).year
ROLE = {1: "province_admin", 2: "city_admin", 3: "county_admin", 4: "school_admin"}
Auth = Callable[..., dict[str, str]]


def runtime(client: httpx.AsyncClient) -> Any:
    return client.app.state.runtime  # type: ignore[attr-defined]


def admin(auth: Auth, place: OrgPath, depth: int) -> dict[str, str]:
    return auth(ROLE[depth], place.as_list()[:depth])


async def publish(client: httpx.AsyncClient, *events: Event) -> list[uuid.UUID]:
    rt = runtime(client)
    await rt.producer_ready.wait()
    ids = []
    for event in events:
        env = event.envelope(producer="enrollment", trace_id="test")
        await rt.producer.send_and_wait(
            rt.settings.topic(event.TOPIC), env.model_dump_json().encode(), key=env.key.encode()
        )
        ids.append(env.id)
    return ids


async def handled(client: httpx.AsyncClient, event_id: uuid.UUID) -> bool:
    async with runtime(client).engine.connect() as conn:
        found = await conn.scalar(
            text("SELECT 1 FROM credits.inbox WHERE event_id = :e"), {"e": event_id}
        )
    return found is not None


def bonus(teacher: uuid.UUID, category: str, hours: int, place: OrgPath) -> ledger.EntryIn:
    return ledger.EntryIn(
        teacher_id=teacher,
        source_kind="bonus",
        source_id=uuid.uuid4().hex,
        category=category,
        hours=Decimal(hours),
        occurred_at=NOW,
        org=place,
    )


async def teacher_with_hours(
    client: httpx.AsyncClient, place: OrgPath, hours: dict[str, int]
) -> uuid.UUID:
    """A teacher credits knows at `place`, with these hours of this year recorded there."""
    teacher = uuid.uuid4()
    async with runtime(client).session_factory() as session, session.begin():
        session.add(Teacher(teacher_id=teacher, name="王芳", **place.model_dump()))
        await ledger.post_entries(
            session, [bonus(teacher, category, h, place) for category, h in hours.items()]
        )
    return teacher


async def teacher_with_a_complete_year(client: httpx.AsyncClient, place: OrgPath) -> uuid.UUID:
    """A teacher credits knows at `place`, with this year's 90 hours recorded there."""
    return await teacher_with_hours(
        client, place, {"public": 30, "professional": 42, "elective": 18}
    )


def transferred(
    teacher: uuid.UUID, frm: OrgPath, to: OrgPath, *, at: datetime = NOW, from_pool: bool = False
) -> TeacherTransferred:
    return TeacherTransferred(
        teacher_id=teacher,
        from_org=frm,
        to_org=to,
        org=to,
        from_departed_pool=from_pool,
        stage="primary",
        subject="语文",
        transferred_at=at,
    )


async def placed_at(client: httpx.AsyncClient, teacher: uuid.UUID, place: OrgPath) -> None:
    async def there() -> bool:
        async with runtime(client).session_factory() as session:
            known = await session.get(Teacher, teacher, populate_existing=True)
            return known is not None and known.org_path == place.as_list()

    await eventually(there, timeout=30)


async def county_rows(client: httpx.AsyncClient, auth: Auth) -> dict[str, dict[str, Any]]:
    r = await client.get(
        "/reports/totals",
        params={"level": "county", "parent": ZQ.city_id, "year": YEAR},
        headers=admin(auth, ZQ, 2),
    )
    assert r.status_code == 200, r.text
    return {row["org_id"]: row for row in r.json()["rows"]}


async def test_a_transfer_moves_the_years_totals_the_balance_and_the_certificates_to_the_new_school(
    client: httpx.AsyncClient, auth: Auth
) -> None:
    teacher = await teacher_with_a_complete_year(client, ZQ)
    me = auth("teacher", ZQ.as_list(), teacher_id=str(teacher))
    issued = await client.post("/certificates", json={"year": YEAR}, headers=me)
    assert issued.status_code == 201, issued.text
    before = await county_rows(client, auth)
    assert before[ZQ.county_id]["complete"] == 1

    await publish(client, transferred(teacher, ZQ, ZQ_OTHER))
    await placed_at(client, teacher, ZQ_OTHER)

    rows = await county_rows(client, auth)
    assert (rows[ZQ.county_id]["complete"], rows[ZQ.county_id]["counted_hours"]) == (0, "0.0")
    moved = rows[ZQ_OTHER.county_id]
    assert (moved["teachers"], moved["teachers_with_credit"], moved["complete"]) == (1, 1, 1)
    assert moved["counted_hours"] == "90.0"
    schools = await client.get(
        "/reports/totals",
        params={"level": "school", "parent": ZQ_OTHER.county_id, "year": YEAR},
        headers=admin(auth, ZQ_OTHER, 3),
    )
    assert [(s["org_id"], s["complete"]) for s in schools.json()["rows"]] == [
        (ZQ_OTHER.school_id, 1)
    ]

    balance = f"/ledger/{teacher}/balance"
    for depth in (4, 3):
        old = await client.get(balance, params={"year": YEAR}, headers=admin(auth, ZQ, depth))
        assert old.status_code == 404
        new = await client.get(balance, params={"year": YEAR}, headers=admin(auth, ZQ_OTHER, depth))
        assert new.status_code == 200 and new.json()["complete"] is True, new.text
        listed = await client.get(
            "/certificates", params={"teacher_id": str(teacher)}, headers=admin(auth, ZQ, depth)
        )
        assert listed.json()["items"] == []
        listed = await client.get(
            "/certificates",
            params={"teacher_id": str(teacher)},
            headers=admin(auth, ZQ_OTHER, depth),
        )
        assert [c["code"] for c in listed.json()["items"]] == [issued.json()["code"]]
    assert (await client.get(balance, params={"year": YEAR}, headers=me)).status_code == 200

    # The entries keep the place they were booked at; a replayed transfer moves nothing twice.
    async with runtime(client).session_factory() as session, session.begin():
        booked = await session.scalars(
            select(LedgerEntry.school_id).where(LedgerEntry.teacher_id == teacher)
        )
        assert set(booked.all()) == {ZQ.school_id}
        await on_teacher_transferred(session, transferred(teacher, ZQ, ZQ_OTHER))
    assert await county_rows(client, auth) == rows


async def test_years_before_the_transfer_stay_with_the_school_where_they_were_earned(
    client: httpx.AsyncClient, auth: Auth
) -> None:
    teacher = await teacher_with_a_complete_year(client, ZQ)
    next_year = NOW + timedelta(days=366)
    async with runtime(client).session_factory() as session, session.begin():
        await on_teacher_transferred(session, transferred(teacher, ZQ, ZQ_OTHER, at=next_year))
    rows = await county_rows(client, auth)
    assert rows[ZQ.county_id]["complete"] == 1 and rows[ZQ.county_id]["counted_hours"] == "90.0"
    assert rows.get(ZQ_OTHER.county_id, {}).get("complete", 0) == 0
    # Who reads the teacher's records follows the teacher at once.
    r = await client.get(f"/ledger/{teacher}", headers=admin(auth, ZQ_OTHER, 4))
    assert r.status_code == 200 and len(r.json()["items"]) == 3


async def test_a_departure_keeps_the_credits_at_the_school_until_a_take_in_moves_them(
    client: httpx.AsyncClient, auth: Auth
) -> None:
    teacher = await teacher_with_a_complete_year(client, ZQ)
    me = auth("teacher", ZQ.as_list(), teacher_id=str(teacher))
    # The re-sent record after the departure is handled in order behind it: once it is in the
    # inbox, the departure has been seen.
    record = TeacherUpdated(
        teacher_id=teacher,
        teacher_name="王芳",
        changed_fields=[],
        stage="primary",
        subject="语文",
        is_rural=False,
        status="departed",
        verified=True,
        org=ZQ,
        updated_at=NOW,
    )
    (_, seen) = await publish(
        client,
        TeacherDeparted(
            teacher_id=teacher, org=ZQ, stage="primary", subject="语文", departed_at=NOW
        ),
        record,
    )
    await eventually(lambda: handled(client, seen), timeout=30)
    assert (await county_rows(client, auth))[ZQ.county_id]["complete"] == 1
    for who in (me, admin(auth, ZQ, 4)):
        assert (await client.get(f"/ledger/{teacher}", headers=who)).status_code == 200

    await publish(client, transferred(teacher, ZQ, ZQ_OTHER, from_pool=True))
    await placed_at(client, teacher, ZQ_OTHER)
    rows = await county_rows(client, auth)
    assert rows[ZQ_OTHER.county_id]["complete"] == 1 and rows[ZQ.county_id]["complete"] == 0
    assert (await client.get(f"/ledger/{teacher}", headers=me)).status_code == 200
    r = await client.get(f"/ledger/{teacher}", headers=admin(auth, ZQ, 4))
    assert r.status_code == 404


async def booked_at(client: httpx.AsyncClient, teacher: uuid.UUID) -> tuple[set[str], str]:
    """(the schools the teacher's entries were booked at, the school of this year)."""
    async with runtime(client).session_factory() as session:
        schools = await session.scalars(
            select(LedgerEntry.school_id).where(LedgerEntry.teacher_id == teacher)
        )
        year = await session.get(TeacherYear, (teacher, YEAR), populate_existing=True)
        assert year is not None
        return set(schools.all()), year.school_id


def completed(teacher: uuid.UUID, place: OrgPath, hours: int) -> CourseCompleted:
    return CourseCompleted(
        completion_id=uuid.uuid4(),
        teacher_id=teacher,
        project_id=uuid.uuid4(),
        project_year=YEAR,
        course_id=uuid.uuid4(),
        course_title="个人选修：班级管理",
        category="general_elective",
        hours=Decimal(hours),
        source="video",
        org=place,
        completed_at=NOW,
    )


async def test_hours_sent_before_the_sender_saw_a_transfer_count_at_the_new_school(
    client: httpx.AsyncClient, auth: Auth
) -> None:
    teacher = await teacher_with_hours(client, ZQ, {"public": 30, "professional": 42})
    await publish(client, transferred(teacher, ZQ, ZQ_OTHER))
    await placed_at(client, teacher, ZQ_OTHER)
    # Learning had not yet seen the transfer: its completion names the old school.
    (late,) = await publish(client, completed(teacher, ZQ, 18))
    await eventually(lambda: handled(client, late), timeout=30)

    rows = await county_rows(client, auth)
    old = rows[ZQ.county_id]
    assert (old["teachers_with_credit"], old["complete"], old["counted_hours"]) == (0, 0, "0.0")
    new = rows[ZQ_OTHER.county_id]
    assert (new["teachers_with_credit"], new["complete"], new["counted_hours"]) == (1, 1, "90.0")
    schools, year_school = await booked_at(client, teacher)
    assert year_school == ZQ_OTHER.school_id
    assert schools == {ZQ.school_id, ZQ_OTHER.school_id}  # the earlier 72 h stay where booked
    r = await client.get(
        f"/ledger/{teacher}/balance", params={"year": YEAR}, headers=admin(auth, ZQ_OTHER, 4)
    )
    assert r.status_code == 200 and r.json()["complete"] is True, r.text


async def test_a_new_year_is_booked_at_the_teachers_stored_place_else_at_the_events_org(
    client: httpx.AsyncClient, auth: Auth
) -> None:
    known = uuid.uuid4()
    async with runtime(client).session_factory() as session, session.begin():
        session.add(Teacher(teacher_id=known, name="李明", **ZQ_OTHER.model_dump()))
    unknown = uuid.uuid4()  # no enrollment event reached credits yet
    async with runtime(client).session_factory() as session, session.begin():
        await ledger.post_entries(
            session, [bonus(known, "public", 10, ZQ), bonus(unknown, "public", 6, ZQ)]
        )
    assert await booked_at(client, known) == ({ZQ_OTHER.school_id}, ZQ_OTHER.school_id)
    assert await booked_at(client, unknown) == ({ZQ.school_id}, ZQ.school_id)
    rows = await county_rows(client, auth)
    assert rows[ZQ_OTHER.county_id]["counted_hours"] == "10.0"
    assert rows[ZQ.county_id]["counted_hours"] == "6.0"


async def test_late_hours_of_a_year_left_at_the_old_school_count_there(
    client: httpx.AsyncClient, auth: Auth
) -> None:
    teacher = await teacher_with_hours(client, ZQ, {"public": 30, "professional": 42})
    next_year = NOW + timedelta(days=366)
    async with runtime(client).session_factory() as session, session.begin():
        await on_teacher_transferred(session, transferred(teacher, ZQ, ZQ_OTHER, at=next_year))
        # This year's last hours arrive after the move, naming the new school.
        await ledger.post_entries(session, [bonus(teacher, "elective", 18, ZQ_OTHER)])
    rows = await county_rows(client, auth)
    old = rows[ZQ.county_id]
    assert (old["teachers_with_credit"], old["complete"], old["counted_hours"]) == (1, 1, "90.0")
    new = rows.get(ZQ_OTHER.county_id, {})
    assert (new.get("complete", 0), new.get("counted_hours", "0.0")) == (0, "0.0")
    assert (await booked_at(client, teacher))[1] == ZQ.school_id
