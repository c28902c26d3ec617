"""SQL of offline records."""

from __future__ import annotations

import uuid
from collections.abc import Sequence

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from credits.records.models import OfflineRecord, RecordHistory

SCOPE_COLUMNS = ("province_id", "city_id", "county_id", "school_id")


async def get(
    session: AsyncSession, record_id: uuid.UUID, *, lock: bool = False
) -> OfflineRecord | None:
    stmt = select(OfflineRecord).where(OfflineRecord.id == record_id)
    if lock:
        stmt = stmt.with_for_update()
    return (await session.execute(stmt)).scalar_one_or_none()


async def history(session: AsyncSession, record_id: uuid.UUID) -> Sequence[RecordHistory]:
    stmt = (
        select(RecordHistory).where(RecordHistory.record_id == record_id).order_by(RecordHistory.id)
    )
    return (await session.execute(stmt)).scalars().all()


async def page(
    session: AsyncSession,
    *,
    scope: Sequence[str],
    institution: str | None = None,
    teacher_id: uuid.UUID | None,
    status: str | None,
    org_id: str | None,
    year: int | None,
    after: uuid.UUID | None,
    limit: int,
) -> Sequence[OfflineRecord]:
    stmt = select(OfflineRecord)
    for column, value in zip(SCOPE_COLUMNS, scope, strict=False):
        stmt = stmt.where(getattr(OfflineRecord, column) == value)
    if institution is not None:
        stmt = stmt.where(OfflineRecord.institution_user_id == institution)
    if teacher_id is not None:
        stmt = stmt.where(OfflineRecord.teacher_id == teacher_id)
    if status is not None:
        stmt = stmt.where(OfflineRecord.status == status)
    if org_id is not None:
        stmt = stmt.where(
            (OfflineRecord.city_id == org_id)
            | (OfflineRecord.county_id == org_id)
            | (OfflineRecord.school_id == org_id)
        )
    if year is not None:
        stmt = stmt.where(OfflineRecord.year == year)
    if after is not None:
        stmt = stmt.where(OfflineRecord.id > after)
    stmt = stmt.order_by(OfflineRecord.id).limit(limit + 1)
    return (await session.execute(stmt)).scalars().all()
