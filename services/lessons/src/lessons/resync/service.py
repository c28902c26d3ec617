"""Writes snapshot events into the lessons outbox; the running service's relay publishes them.

- every lesson as `LessonSubmitted` (its creation time as `submitted_at`);
- every selection (lesson_promotions) as `LessonPromoted`, with its own `promoted_at`;
- per project and county, the review load of each school as `ReviewsAllocated` (by the
  reviewers' current place; its latest assignment's time as `allocated_at`);
- every submitted review that still counts (not revoked) as `ReviewSubmitted`;
- every award (市级奖级, 省级优课) as `LessonAwarded`, with its own `awarded_at`.

Each is a fact its consumers take as an upsert (keyed by lesson, lesson and level, project and
school, review, award), so a re-sent one is a no-op where the read model is whole and a repair
where it is not. Pages are committed one by one (`resync` is the boundary that commits), and a
resync stopped half-way has sent what it committed. With `since`: only rows made since then
(lessons by creation: an edit made since to an older lesson is not re-sent; counties by their
latest assignment, with their full totals)."""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime
from itertools import groupby
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from lessons.events import LESSONS_OUTBOX, promoted, reviews_allocated, submitted
from lessons.resync import repository as repo
from lessons.reviews.service import review_submitted
from lessons.showcase.awards import awarded
from yanxiu.contracts.lessons import ReviewsAllocated
from yanxiu.kit.outbox import Outbox

PAGE = 1000  # rows; for review loads, (project, county) pairs


@dataclass
class Resent:
    lessons: int = 0  # lessons.lesson_submitted
    promotions: int = 0  # lessons.lesson_promoted
    review_loads: int = 0  # lessons.reviews_allocated (one per project and county)
    reviews: int = 0  # lessons.review_submitted
    awards: int = 0  # lessons.lesson_awarded


# One page: (session, after, since, limit) → (the last key sent or None, how many).
Pager = Callable[[AsyncSession, Any, datetime | None, int], Awaitable[tuple[Any, int]]]


async def resync(
    sessions: async_sessionmaker[AsyncSession],
    *,
    since: datetime | None = None,
    page: int = PAGE,
    outbox: Outbox = LESSONS_OUTBOX,
) -> Resent:
    """Lessons, then selections, review loads, reviews and awards (with `since`: those made
    since then): a consumer sees a lesson before what happened to it."""

    async def lessons(s: AsyncSession, after: Any, at: datetime | None, n: int) -> Any:
        rows = await repo.lessons_page(s, after=after, since=at, limit=n)
        await outbox.add(s, *(submitted(lesson) for lesson in rows))
        return (rows[-1].id if rows else None), len(rows)

    async def promotions(s: AsyncSession, after: Any, at: datetime | None, n: int) -> Any:
        rows = await repo.promotions_page(s, after=after, since=at, limit=n)
        await outbox.add(s, *(promoted(lesson, p) for p, lesson in rows))
        return (rows[-1][0].id if rows else None), len(rows)

    async def review_loads(s: AsyncSession, after: Any, at: datetime | None, n: int) -> Any:
        rows = await repo.review_loads_page(s, after=after, since=at, limit=n)
        events = [
            event
            for (project, _), county in groupby(
                rows, key=lambda r: (r["project_id"], r["county_id"])
            )
            for event in _county_loads(project, list(county))
        ]
        await outbox.add(s, *events)
        return ((rows[-1]["project_id"], rows[-1]["county_id"]) if rows else None), len(events)

    async def reviews(s: AsyncSession, after: Any, at: datetime | None, n: int) -> Any:
        rows = await repo.reviews_page(s, after=after, since=at, limit=n)
        await outbox.add(
            s, *(review_submitted(r, reviewer=m, lesson=lesson) for r, m, lesson in rows)
        )
        return (rows[-1][0].id if rows else None), len(rows)

    async def awards(s: AsyncSession, after: Any, at: datetime | None, n: int) -> Any:
        rows = await repo.awards_page(s, after=after, since=at, limit=n)
        await outbox.add(s, *(awarded(lesson, a, a.awarded_at) for a, lesson in rows))
        return (rows[-1][0].id if rows else None), len(rows)

    return Resent(
        lessons=await _pages(sessions, lessons, since=since, page=page),
        promotions=await _pages(sessions, promotions, since=since, page=page),
        review_loads=await _pages(sessions, review_loads, since=since, page=page),
        reviews=await _pages(sessions, reviews, since=since, page=page),
        awards=await _pages(sessions, awards, since=since, page=page),
    )


async def _pages(
    sessions: async_sessionmaker[AsyncSession],
    one_page: Pager,
    *,
    since: datetime | None,
    page: int,
) -> int:
    """Page after page, each in its own committed transaction, until one comes back empty."""
    sent, after = 0, None
    while True:
        async with sessions() as session, session.begin():
            last, count = await one_page(session, after, since, page)
        if last is None:
            return sent
        sent, after = sent + count, last


def _project_county(row: Any) -> tuple[uuid.UUID, str]:
    return row["project_id"], row["county_id"]


def _county_loads(project: uuid.UUID, rows: list[Any]) -> list[ReviewsAllocated]:
    """One county of one project: its schools' loads, at its latest assignment's time."""
    return reviews_allocated(
        project_id=project,
        project_year=rows[0]["year"],
        allocated_at=max(row["at"] for row in rows),
        loads=[
            (r["province_id"], r["city_id"], r["county_id"], r["school_id"], r["n"]) for r in rows
        ],
    )
