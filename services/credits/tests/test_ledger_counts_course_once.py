"""一门课程只计一次 in the ledger (issue #14): whatever completion ids learning sends, a course has
at most one live entry per teacher and project — the consumer skips a second one, and the
database itself refuses it (course_slots, kept by a trigger); a reversal frees the course, so
the completion that counts next is credited; events older than the course identity fall
back to the course they name."""

from __future__ import annotations

import uuid
from decimal import Decimal
from typing import Any

import httpx
import pytest
from sqlalchemy import text
from sqlalchemy.exc import IntegrityError

from credits.ledger import service as ledger
from credits.ledger.models import LedgerEntry
from services.credits.tests.test_ledger import NOW, YEAR, ZQ, entries_of, publish, runtime
from yanxiu.contracts.learning import CourseCompleted, CourseCompletionRevoked
from yanxiu.testing import eventually

COURSE = "provider:zhixue:code:zx-class-06"


def completed(teacher: uuid.UUID, project: uuid.UUID, **over: Any) -> CourseCompleted:
    values: dict[str, Any] = {
        "completion_id": uuid.uuid4(),
        "teacher_id": teacher,
        "project_id": project,
        "project_year": YEAR,
        "course_id": None,
        "course_title": "班级管理",
        "category": "general_elective",
        "hours": Decimal(6),
        "source": "provider",
        "source_ref": f"zhixue:{uuid.uuid4().hex[:6]}",
        "provider_id": "zhixue",
        "org": ZQ,
        "completed_at": NOW,
        "course_key": COURSE,
        **over,
    }
    return CourseCompleted(**values)


def revoked(done: CourseCompleted) -> CourseCompletionRevoked:
    return CourseCompletionRevoked(
        completion_id=done.completion_id,
        teacher_id=done.teacher_id,
        project_id=done.project_id,
        project_year=YEAR,
        reason="retracted by provider",
        org=ZQ,
        revoked_at=NOW,
    )


async def count_is(client: httpx.AsyncClient, teacher: uuid.UUID, n: int) -> list[LedgerEntry]:
    """The teacher's entries once there are `n` of them (empty until then, for `eventually`)."""
    found = await entries_of(client, teacher)
    return found if len(found) == n else []


async def test_two_completions_of_one_course_make_one_ledger_entry(
    client: httpx.AsyncClient,
) -> None:
    teacher, project = uuid.uuid4(), uuid.uuid4()
    first, again = completed(teacher, project), completed(teacher, project)
    other = completed(teacher, project, course_key="course:" + str(uuid.uuid4()))
    await publish(client, first, again, other)  # one partition: `other` comes last

    rows = await eventually(lambda: count_is(client, teacher, 2), timeout=30)
    assert {(e.source_id, e.course_key) for e in rows} == {
        (str(first.completion_id), COURSE),
        (str(other.completion_id), other.course_key),
    }
    assert all(e.project_id == project for e in rows)
    # The same course in another project is another course to count.
    elsewhere = completed(teacher, uuid.uuid4())
    await publish(client, elsewhere)
    await eventually(lambda: count_is(client, teacher, 3), timeout=30)


async def test_the_database_refuses_a_second_live_entry_of_a_course(
    client: httpx.AsyncClient,
) -> None:
    teacher, project = uuid.uuid4(), uuid.uuid4()
    entry = ledger.EntryIn(
        teacher_id=teacher,
        source_kind="provider",
        source_id=str(uuid.uuid4()),
        category="general_elective",
        hours=Decimal(6),
        occurred_at=NOW,
        org=ZQ,
        project_id=project,
        course_key=COURSE,
    )
    async with runtime(client).session_factory() as session, session.begin():
        assert await ledger.post_entries(session, [entry]) == 1
    direct = text(
        "INSERT INTO credits.ledger_entries (id, teacher_id, year, region, category, hours,"
        " source_kind, source_id, description, province_id, city_id, county_id, school_id,"
        " occurred_at, project_id, course_key) SELECT gen_random_uuid(), teacher_id, year,"
        " region, category, hours, source_kind, 'another-completion', description, province_id,"
        " city_id, county_id, school_id, occurred_at, project_id, course_key"
        " FROM credits.ledger_entries WHERE teacher_id = :t"
    )
    with pytest.raises(IntegrityError, match="uq_ledger_one_live_course"):
        async with runtime(client).session_factory() as session, session.begin():
            await session.execute(direct, {"t": teacher})
    # The service skips it instead of tripping the constraint.
    second = ledger.EntryIn(**{**entry.__dict__, "source_id": str(uuid.uuid4())})
    async with runtime(client).session_factory() as session, session.begin():
        assert await ledger.post_entries(session, [second, second]) == 0
    assert len(await count_is(client, teacher, 1)) == 1


async def test_a_reversal_frees_the_course_for_the_completion_that_counts_next(
    client: httpx.AsyncClient,
) -> None:
    teacher, project = uuid.uuid4(), uuid.uuid4()
    first, promoted = completed(teacher, project), completed(teacher, project)
    # As learning sends a retraction: the counted one revoked, the attempt counting instead.
    await publish(client, first, revoked(first), promoted)
    rows = await eventually(lambda: count_is(client, teacher, 3), timeout=30)
    assert sorted(e.hours for e in rows) == [Decimal(-6), Decimal(6), Decimal(6)]
    assert sum((e.hours for e in rows), Decimal(0)) == 6
    async with runtime(client).session_factory() as session:
        slot = (
            await session.execute(
                text("SELECT entry_id FROM credits.course_slots WHERE teacher_id = :t"),
                {"t": teacher},
            )
        ).scalar_one()
    live = next(e for e in rows if e.source_id == str(promoted.completion_id))
    assert slot == live.id


async def test_an_older_event_without_a_course_key_counts_once_by_its_course(
    client: httpx.AsyncClient,
) -> None:
    teacher, project, course = uuid.uuid4(), uuid.uuid4(), uuid.uuid4()
    old = {"course_key": None, "course_id": course, "source": "video"}
    await publish(client, completed(teacher, project, **old), completed(teacher, project, **old))
    await publish(client, completed(teacher, project, course_key="course:" + str(uuid.uuid4())))
    rows = await eventually(lambda: count_is(client, teacher, 2), timeout=30)
    assert f"course:{course}" in {e.course_key for e in rows}
