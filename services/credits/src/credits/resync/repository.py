"""The reads of a resync: teacher-years, certificates and offline records in key order, a page
at a time, each row locked FOR SHARE until the page's events are in the outbox. A change racing
the resync (a ledger batch, a revocation, a review) then either commits first, and the page
shows its result, or waits for the page, and its own event follows the page's in the outbox:
consumers always end on the latest snapshot."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import or_, select, tuple_
from sqlalchemy.ext.asyncio import AsyncSession

from credits.certificates.models import Certificate
from credits.ledger.models import TeacherYear
from credits.records.models import OfflineRecord

YearKey = tuple[uuid.UUID, int]


async def teacher_years_page(
    session: AsyncSession, *, after: YearKey | None, since: datetime | None, limit: int
) -> list[TeacherYear]:
    """With `since`: the years tallied or moved since then."""
    stmt = (
        select(TeacherYear)
        .order_by(TeacherYear.teacher_id, TeacherYear.year)
        .limit(limit)
        .with_for_update(read=True)
    )
    if after is not None:
        stmt = stmt.where(tuple_(TeacherYear.teacher_id, TeacherYear.year) > tuple_(*after))
    if since is not None:
        stmt = stmt.where(TeacherYear.updated_at >= since)
    return list((await session.scalars(stmt)).all())


async def certificates_page(
    session: AsyncSession, *, after: uuid.UUID | None, since: datetime | None, limit: int
) -> list[Certificate]:
    """Valid and revoked ones alike. With `since`: those issued or revoked since then."""
    stmt = select(Certificate).order_by(Certificate.id).limit(limit).with_for_update(read=True)
    if after is not None:
        stmt = stmt.where(Certificate.id > after)
    if since is not None:
        stmt = stmt.where(or_(Certificate.issued_at >= since, Certificate.revoked_at >= since))
    return list((await session.scalars(stmt)).all())


async def records_page(
    session: AsyncSession, *, after: uuid.UUID | None, since: datetime | None, limit: int
) -> list[OfflineRecord]:
    """With `since`: those entered, reviewed, corrected or approved since then."""
    stmt = select(OfflineRecord).order_by(OfflineRecord.id).limit(limit).with_for_update(read=True)
    if after is not None:
        stmt = stmt.where(OfflineRecord.id > after)
    if since is not None:
        stmt = stmt.where(OfflineRecord.updated_at >= since)
    return list((await session.scalars(stmt)).all())
