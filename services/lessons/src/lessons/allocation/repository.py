"""SQL of allocation: pools, loads and bulk writes of assignments."""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from datetime import datetime
from typing import Any

import asyncpg
from sqlalchemy import select, text
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from lessons.allocation.models import AllocationRun, Assignment, Reviewer
from lessons.models import Lesson
from yanxiu.kit.db import driver_connection
from yanxiu.kit.reads import Reader

CITY_LEVELS = ("city", "province")


async def upsert_reviewers(session: AsyncSession, rows: list[dict[str, Any]]) -> None:
    if not rows:
        return
    stmt = insert(Reviewer)
    keep = {k: stmt.excluded[k] for k in rows[0] if k not in ("project_id", "teacher_id")}
    await session.execute(
        stmt.on_conflict_do_update(
            index_elements=[Reviewer.project_id, Reviewer.teacher_id], set_=keep
        ),
        rows,
    )


async def project_year(session: AsyncSession, project_id: uuid.UUID) -> int | None:
    stmt = select(Reviewer.year).where(
        Reviewer.project_id == project_id, Reviewer.status == "active"
    )
    return (await session.execute(stmt.limit(1))).scalar_one_or_none()


_UNSERVED = """
SELECT r.teacher_id, r.school_id, r.stage, r.subject, a.held
FROM lessons.reviewers r
LEFT JOIN (
    SELECT reviewer_id, array_agg(lesson_id) AS held
    FROM lessons.assignments WHERE project_id = $1 GROUP BY reviewer_id
) a ON a.reviewer_id = r.teacher_id
WHERE r.project_id = $1 AND r.status = 'active'
  AND coalesce(cardinality(a.held), 0) < $2
ORDER BY r.teacher_id
"""


async def unserved_members(session: AsyncSession, project_id: uuid.UUID, per: int) -> list[Any]:
    """(teacher, school, stage, subject, lessons held or None) of each active reviewer with
    fewer than `per` assignments, in teacher order."""
    return list(await (await driver_connection(session)).fetch(_UNSERVED, project_id, per))


async def city_level_lessons(session: AsyncSession, year: int) -> list[Any]:
    """(id, author, school, stage, subject) of the lessons in provincial review: city-level,
    national curriculum, of the year."""
    return list(
        await (await driver_connection(session)).fetch(
            "SELECT id, teacher_id, school_id, stage, subject FROM lessons.lessons"
            " WHERE year = $1 AND curriculum = 'national' AND level = ANY($2::text[])"
            " ORDER BY id",
            year,
            list(CITY_LEVELS),
        )
    )


async def transaction_time(session: AsyncSession) -> datetime:
    """`now()`: what the assignments' `assigned_at` default writes in this transaction."""
    at: datetime = await (await driver_connection(session)).fetchval("SELECT now()")
    return at


# Grouped school first: the sort behind the grouping (millions of joined rows after a first
# run) then settles most comparisons on one key instead of four (6 s → 4 s at 1M teachers).
_SCHOOL_LOADS = """
SELECT r.province_id, r.city_id, r.county_id, r.school_id, count(*)::int
FROM lessons.reviewers r
JOIN lessons.assignments a ON a.project_id = r.project_id AND a.reviewer_id = r.teacher_id
WHERE r.project_id = $1 AND r.school_id = ANY($2::text[])
GROUP BY r.school_id, r.county_id, r.city_id, r.province_id
"""


async def school_loads(
    session: AsyncSession, project_id: uuid.UUID, schools: list[str]
) -> list[Any]:
    """(province, city, county, school, assignments) of these schools in the project: every
    run's assignments of the members now at each school, whatever their status."""
    return list(await (await driver_connection(session)).fetch(_SCHOOL_LOADS, project_id, schools))


async def lesson_loads(session: AsyncSession, project_id: uuid.UUID) -> dict[uuid.UUID, int]:
    rows = await (await driver_connection(session)).fetch(
        "SELECT lesson_id, count(*) FROM lessons.assignments WHERE project_id = $1"
        " GROUP BY lesson_id",
        project_id,
    )
    return {row[0]: row[1] for row in rows}


async def write_assignments(session: AsyncSession, records: Iterable[tuple[Any, ...]]) -> None:
    """COPY: millions of rows in seconds. The records come in reviewer order, so the unique
    (reviewer, lesson, project) index grows in sequence rather than by millions of random
    inserts."""
    await (await driver_connection(session)).copy_records_to_table(
        "assignments",
        schema_name="lessons",
        columns=["id", "run_id", "project_id", "reviewer_id", "lesson_id"],
        records=records,
    )


async def run(reader: Reader, run_id: uuid.UUID) -> AllocationRun | None:
    return await reader.get(AllocationRun, run_id)


async def assignments_of(
    reader: Reader, *, reviewer_id: uuid.UUID, project_id: uuid.UUID | None
) -> list[asyncpg.Record]:
    """The reviewer's assignments with their lessons, keyed as `AssignmentRead`'s fields."""
    stmt = (
        select(
            Assignment.id,
            Assignment.run_id,
            Assignment.project_id,
            Assignment.lesson_id,
            Lesson.title.label("lesson_title"),
            Lesson.stage,
            Lesson.subject,
            Lesson.video_url,
            Assignment.assigned_at,
        )
        .join(Lesson, Lesson.id == Assignment.lesson_id)
        .where(Assignment.reviewer_id == reviewer_id)
        .order_by(Assignment.assigned_at, Assignment.id)
    )
    if project_id is not None:
        stmt = stmt.where(Assignment.project_id == project_id)
    return await reader.records(stmt)


async def memberships(
    reader: Reader, *, teacher_id: uuid.UUID, project_id: uuid.UUID | None
) -> list[Reviewer]:
    """The teacher's pool memberships (one per project), by the teacher_id index."""
    stmt = select(Reviewer).where(Reviewer.teacher_id == teacher_id)
    if project_id is not None:
        stmt = stmt.where(Reviewer.project_id == project_id)
    return await reader.all(Reviewer, stmt)


async def lock_project(session: AsyncSession, project_id: uuid.UUID) -> None:
    """One allocation run per project at a time."""
    await session.execute(
        text("SELECT pg_advisory_xact_lock(hashtextextended(:k, 0))"),
        {"k": f"lessons.allocation:{project_id}"},
    )
