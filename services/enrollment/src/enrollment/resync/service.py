"""Writes snapshot events into enrollment's outbox; the running service's relay publishes them.

- every teacher as `TeacherUpdated` with `changed_fields=[]` (nothing changed: this is how the
  record stands), which rebuilds credits' teachers and learning's schools;
- every registration (all are active: a withdrawal deletes its row) as `TeacherRegistered`,
  which rebuilds learning's plans and lessons' review pools.

Each is a fact consumers already handle as an upsert, so a re-sent fact is a no-op where the
read model is whole and a repair where it is not. Pages are committed one by one (`resync` is
the boundary that commits, as the consumer wrapper is for handlers): a million teachers never
sit in one transaction, and a resync stopped half-way has sent what it committed."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from enrollment.registration.service import registered
from enrollment.resync import repository as repo
from enrollment.teachers.history import ENROLLMENT_OUTBOX, updated
from yanxiu.kit.outbox import Outbox

PAGE = 1000


@dataclass
class Resent:
    teachers: int = 0
    registrations: int = 0


async def resend_teachers(
    session: AsyncSession,
    *,
    outbox: Outbox,
    after: uuid.UUID | None,
    since: datetime | None,
    limit: int,
    teacher_ids: Sequence[uuid.UUID] | None = None,
) -> tuple[uuid.UUID | None, int]:
    """One page; returns the last teacher id sent (None when none was left) and the count.
    With `teacher_ids`: only those teachers (a reconciliation's repair)."""
    teachers = await repo.teachers_page(
        session, after=after, since=since, limit=limit, teacher_ids=teacher_ids
    )
    await outbox.add(session, *(updated(t, []) for t in teachers))
    return (teachers[-1].id if teachers else None), len(teachers)


async def resend_registrations(
    session: AsyncSession,
    *,
    outbox: Outbox,
    after: uuid.UUID | None,
    since: datetime | None,
    limit: int,
    teacher_ids: Sequence[uuid.UUID] | None = None,
    project_id: uuid.UUID | None = None,
) -> tuple[uuid.UUID | None, int]:
    rows = await repo.registrations_page(
        session,
        after=after,
        since=since,
        limit=limit,
        teacher_ids=teacher_ids,
        project_id=project_id,
    )
    await outbox.add(session, *(registered(r, teacher=t, project=p) for r, t, p in rows))
    return (rows[-1][0].id if rows else None), len(rows)


async def resync(
    sessions: async_sessionmaker[AsyncSession],
    *,
    since: datetime | None = None,
    page: int = PAGE,
    outbox: Outbox = ENROLLMENT_OUTBOX,
) -> Resent:
    """Every teacher, then every registration (with `since`: those changed since then)."""
    done = Resent()
    after: uuid.UUID | None = None
    while True:
        async with sessions() as session, session.begin():
            last, count = await resend_teachers(
                session, outbox=outbox, after=after, since=since, limit=page
            )
        if last is None:
            break
        done.teachers += count
        after = last
    after = None
    while True:
        async with sessions() as session, session.begin():
            last, count = await resend_registrations(
                session, outbox=outbox, after=after, since=since, limit=page
            )
        if last is None:
            break
        done.registrations += count
        after = last
    return done
