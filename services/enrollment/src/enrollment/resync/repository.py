"""The reads of a resync: teachers and registrations in id order, a page at a time, each row
locked FOR SHARE until the page's events are in the outbox. A change racing the resync
(a withdrawal, a transfer) then either commits first, and the page shows its result, or waits
for the page, and its own event follows the page's in the outbox: consumers always end on the
latest fact."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from enrollment.models import Project, Registration, Teacher


async def teachers_page(
    session: AsyncSession,
    *,
    after: uuid.UUID | None,
    since: datetime | None,
    limit: int,
    teacher_ids: Sequence[uuid.UUID] | None = None,
) -> list[Teacher]:
    """With `teacher_ids`: only those teachers (a reconciliation's repair)."""
    stmt = select(Teacher).order_by(Teacher.id).limit(limit).with_for_update(read=True)
    if after is not None:
        stmt = stmt.where(Teacher.id > after)
    if since is not None:
        stmt = stmt.where(Teacher.updated_at >= since)
    if teacher_ids is not None:
        stmt = stmt.where(Teacher.id.in_(list(teacher_ids)))
    return list((await session.scalars(stmt)).all())


async def registrations_page(
    session: AsyncSession,
    *,
    after: uuid.UUID | None,
    since: datetime | None,
    limit: int,
    teacher_ids: Sequence[uuid.UUID] | None = None,
    project_id: uuid.UUID | None = None,
) -> list[tuple[Registration, Teacher, Project]]:
    """Registrations with their teacher and project. A withdrawn registration is deleted, so
    every row here is an active one. With `since`: those registered since, and those of a
    teacher changed since (the event carries the teacher's current name and school). With
    `teacher_ids` / `project_id`: only those teachers' registrations, in that project."""
    stmt = (
        select(Registration, Teacher, Project)
        .join(Teacher, Teacher.id == Registration.teacher_id)
        .join(Project, Project.id == Registration.project_id)
        .order_by(Registration.id)
        .limit(limit)
        .with_for_update(read=True, of=[Registration, Teacher])
    )
    if after is not None:
        stmt = stmt.where(Registration.id > after)
    if since is not None:
        stmt = stmt.where(or_(Registration.registered_at >= since, Teacher.updated_at >= since))
    if teacher_ids is not None:
        stmt = stmt.where(Registration.teacher_id.in_(list(teacher_ids)))
    if project_id is not None:
        stmt = stmt.where(Registration.project_id == project_id)
    return [(r, t, p) for r, t, p in (await session.execute(stmt)).all()]
