"""The reads of a resync: plans, live completions and met evaluations in key order, a page at a
time, each row locked FOR SHARE until the page's events are in the outbox. A change racing the
resync (a withdrawal, a revocation, a re-evaluation) then either commits first, and the page
shows its result, or waits for the page, and its own event follows the page's in the outbox:
consumers always end on the latest fact."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import and_, or_, select, tuple_
from sqlalchemy.ext.asyncio import AsyncSession

from learning.attainment.models import Attainment, Completion
from learning.models import Plan

Pair = tuple[uuid.UUID, uuid.UUID]  # teacher, project


async def plans_page(
    session: AsyncSession, *, after: uuid.UUID | None, since: datetime | None, limit: int
) -> list[Plan]:
    """Plans in id order. With `since`: those changed or started since."""
    stmt = select(Plan).order_by(Plan.id).limit(limit).with_for_update(read=True)
    if after is not None:
        stmt = stmt.where(Plan.id > after)
    if since is not None:
        stmt = stmt.where(or_(Plan.updated_at >= since, Plan.started_at >= since))
    return list((await session.scalars(stmt)).all())


async def completions_page(
    session: AsyncSession, *, after: uuid.UUID | None, since: datetime | None, limit: int
) -> list[tuple[Completion, Plan]]:
    """Live (counted, not revoked) completions in id order, with their plan. With `since`:
    those recorded since."""
    stmt = (
        select(Completion, Plan)
        .join(
            Plan,
            and_(
                Plan.teacher_id == Completion.teacher_id, Plan.project_id == Completion.project_id
            ),
        )
        .where(Completion.revoked_at.is_(None))
        .order_by(Completion.id)
        .limit(limit)
        .with_for_update(read=True, of=Completion)
    )
    if after is not None:
        stmt = stmt.where(Completion.id > after)
    if since is not None:
        stmt = stmt.where(Completion.created_at >= since)
    return [(c, p) for c, p in (await session.execute(stmt)).all()]


async def met_page(
    session: AsyncSession, *, after: Pair | None, since: datetime | None, limit: int
) -> list[tuple[Attainment, Plan]]:
    """Evaluations that stand met, in (teacher, project) order, with their plan. With
    `since`: those evaluated since."""
    stmt = (
        select(Attainment, Plan)
        .join(
            Plan,
            and_(
                Plan.teacher_id == Attainment.teacher_id, Plan.project_id == Attainment.project_id
            ),
        )
        .where(Attainment.met.is_(True))
        .order_by(Attainment.teacher_id, Attainment.project_id)
        .limit(limit)
        .with_for_update(read=True, of=Attainment)
    )
    if after is not None:
        stmt = stmt.where(tuple_(Attainment.teacher_id, Attainment.project_id) > tuple_(*after))
    if since is not None:
        stmt = stmt.where(Attainment.evaluated_at >= since)
    return [(a, p) for a, p in (await session.execute(stmt)).all()]
