"""The reads of a resync: one keyset page of each kind of row, in id order. Rows that can change
(a lesson's title and subject before selection, a review's revocation) are locked FOR SHARE
until the page's events are in the outbox: a racing change either commits first, and the page
shows it, or waits, and its own event follows the page's. Promotions and awards are never
changed once written; review loads are totals, read at the page's time."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

import asyncpg
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from lessons.allocation.models import Reviewer
from lessons.models import Lesson
from lessons.reviews.models import Review
from lessons.showcase.models import LessonAward, LessonPromotion
from yanxiu.kit.db import driver_connection


async def lessons_page(
    session: AsyncSession, *, after: uuid.UUID | None, since: datetime | None, limit: int
) -> list[Lesson]:
    stmt = select(Lesson).order_by(Lesson.id).limit(limit).with_for_update(read=True)
    if after is not None:
        stmt = stmt.where(Lesson.id > after)
    if since is not None:
        stmt = stmt.where(Lesson.created_at >= since)
    return list((await session.scalars(stmt)).all())


async def promotions_page(
    session: AsyncSession, *, after: int | None, since: datetime | None, limit: int
) -> list[tuple[LessonPromotion, Lesson]]:
    stmt = (
        select(LessonPromotion, Lesson)
        .join(Lesson, Lesson.id == LessonPromotion.lesson_id)
        .order_by(LessonPromotion.id)
        .limit(limit)
    )
    if after is not None:
        stmt = stmt.where(LessonPromotion.id > after)
    if since is not None:
        stmt = stmt.where(LessonPromotion.promoted_at >= since)
    return [(p, lesson) for p, lesson in (await session.execute(stmt)).all()]


# Per (project, county): each school's assignments in the project, by the reviewers' current
# place, and the latest assignment's time. A page is `$3` counties after ($1, $2); with `since`
# ($4), only counties given an assignment since then (with their full totals).
_REVIEW_LOADS = """
WITH loads AS (
    SELECT a.project_id, min(r.year) AS year, r.province_id, r.city_id, r.county_id,
           r.school_id, count(*)::int AS n, max(a.assigned_at) AS at
    FROM lessons.assignments a
    JOIN lessons.reviewers r ON r.project_id = a.project_id AND r.teacher_id = a.reviewer_id
    WHERE $1::uuid IS NULL OR (a.project_id, r.county_id) > ($1, $2::text)
    GROUP BY a.project_id, r.province_id, r.city_id, r.county_id, r.school_id
), page AS (
    SELECT project_id, county_id FROM loads
    GROUP BY project_id, county_id
    HAVING $4::timestamptz IS NULL OR max(at) >= $4
    ORDER BY project_id, county_id
    LIMIT $3
)
SELECT l.project_id, l.year, l.province_id, l.city_id, l.county_id, l.school_id, l.n, l.at
FROM loads l JOIN page USING (project_id, county_id)
ORDER BY l.project_id, l.county_id, l.province_id, l.city_id, l.school_id
"""


async def review_loads_page(
    session: AsyncSession,
    *,
    after: tuple[uuid.UUID, str] | None,
    since: datetime | None,
    limit: int,
) -> list[asyncpg.Record]:
    """(project, year, province, city, county, school, assignments, latest assigned_at) of each
    school of `limit` (project, county) pairs after `after`, in (project, county) order."""
    project, county = after if after is not None else (None, None)
    rows: list[Any] = await (await driver_connection(session)).fetch(
        _REVIEW_LOADS, project, county, limit, since
    )
    return rows


async def reviews_page(
    session: AsyncSession, *, after: uuid.UUID | None, since: datetime | None, limit: int
) -> list[tuple[Review, Reviewer, Lesson]]:
    """Submitted reviews (a revoked one no longer counts), each with its reviewer and lesson."""
    stmt = (
        select(Review, Reviewer, Lesson)
        .join(
            Reviewer,
            (Reviewer.project_id == Review.project_id)
            & (Reviewer.teacher_id == Review.reviewer_id),
        )
        .join(Lesson, Lesson.id == Review.lesson_id)
        .where(Review.status == "submitted")
        .order_by(Review.id)
        .limit(limit)
        .with_for_update(read=True, of=Review)
    )
    if after is not None:
        stmt = stmt.where(Review.id > after)
    if since is not None:
        stmt = stmt.where(Review.submitted_at >= since)
    return [(r, m, lesson) for r, m, lesson in (await session.execute(stmt)).all()]


async def awards_page(
    session: AsyncSession, *, after: uuid.UUID | None, since: datetime | None, limit: int
) -> list[tuple[LessonAward, Lesson]]:
    stmt = (
        select(LessonAward, Lesson)
        .join(Lesson, Lesson.id == LessonAward.lesson_id)
        .order_by(LessonAward.id)
        .limit(limit)
    )
    if after is not None:
        stmt = stmt.where(LessonAward.id > after)
    if since is not None:
        stmt = stmt.where(LessonAward.awarded_at >= since)
    return [(a, lesson) for a, lesson in (await session.execute(stmt)).all()]
