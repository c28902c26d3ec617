"""SQL of allocation: pools, loads and bulk writes of assignments."""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy import select, text
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from lessons.allocation.models import AllocationRun, Assignment, Reviewer
from lessons.models import Lesson

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


async def reviewers(session: AsyncSession, project_id: uuid.UUID) -> list[Any]:
    stmt = select(
        Reviewer.teacher_id, Reviewer.school_id, Reviewer.stage, Reviewer.subject, Reviewer.year
    ).where(Reviewer.project_id == project_id, Reviewer.status == "active")
    return list((await session.execute(stmt)).all())


async def city_level_lessons(session: AsyncSession, year: int) -> list[Any]:
    """The lessons in provincial review: city-level, national curriculum, of the year."""
    stmt = select(
        Lesson.id, Lesson.teacher_id, Lesson.school_id, Lesson.stage, Lesson.subject
    ).where(Lesson.year == year, Lesson.curriculum == "national", Lesson.level.in_(CITY_LEVELS))
    return list((await session.execute(stmt)).all())


async def existing(session: AsyncSession, project_id: uuid.UUID) -> list[Any]:
    stmt = select(Assignment.reviewer_id, Assignment.lesson_id).where(
        Assignment.project_id == project_id
    )
    return list((await session.execute(stmt)).all())


async def write_assignments(
    session: AsyncSession,
    *,
    run_id: uuid.UUID,
    project_id: uuid.UUID,
    pairs: list[tuple[uuid.UUID, uuid.UUID]],
) -> None:
    """COPY: millions of rows in seconds. Ids are the run's id with a counter in the low 64
    bits: unique, and ascending within a run, so the primary-key index grows at its right
    edge instead of taking millions of random inserts."""
    if not pairs:
        return
    base = run_id.int >> 64 << 64
    # In reviewer order, the unique (reviewer, lesson, project) index grows in sequence rather
    # than by millions of random inserts: sorting here is cheaper than those page splits.
    pairs = sorted(pairs, key=lambda p: p[0].int)
    conn = await session.connection()
    raw = await conn.get_raw_connection()
    driver: Any = raw.driver_connection
    await driver.copy_records_to_table(
        "assignments",
        schema_name="lessons",
        columns=["id", "run_id", "project_id", "reviewer_id", "lesson_id"],
        records=(
            (uuid.UUID(int=base | k), run_id, project_id, r, lesson)
            for k, (r, lesson) in enumerate(pairs)
        ),
    )


async def run(session: AsyncSession, run_id: uuid.UUID) -> AllocationRun | None:
    return await session.get(AllocationRun, run_id)


async def assignments_of(
    session: AsyncSession, *, reviewer_id: uuid.UUID, project_id: uuid.UUID | None
) -> list[Any]:
    stmt = (
        select(Assignment, Lesson.title, Lesson.stage, Lesson.subject, Lesson.video_url)
        .join(Lesson, Lesson.id == Assignment.lesson_id)
        .where(Assignment.reviewer_id == reviewer_id)
        .order_by(Assignment.assigned_at, Assignment.id)
    )
    if project_id is not None:
        stmt = stmt.where(Assignment.project_id == project_id)
    return list((await session.execute(stmt)).all())


async def reviewer(
    session: AsyncSession, *, project_id: uuid.UUID, teacher_id: uuid.UUID
) -> Reviewer | None:
    return await session.get(Reviewer, (project_id, teacher_id))


async def lock_project(session: AsyncSession, project_id: uuid.UUID) -> None:
    """One allocation run per project at a time."""
    await session.execute(
        text("SELECT pg_advisory_xact_lock(hashtextextended(:k, 0))"),
        {"k": f"lessons.allocation:{project_id}"},
    )
