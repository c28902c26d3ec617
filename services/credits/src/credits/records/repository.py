"""SQL of offline records."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import date

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from credits.records.models import OfflineRecord, RecordHistory
from yanxiu.kit.reads import Reader

SCOPE_COLUMNS = ("province_id", "city_id", "county_id", "school_id")


async def get(reader: Reader, record_id: uuid.UUID) -> OfflineRecord | None:
    return await reader.get(OfflineRecord, record_id)


async def lock(session: AsyncSession, record_id: uuid.UUID) -> OfflineRecord | None:
    """The record, locked until the transaction ends (a review, an approval, a correction)."""
    stmt = select(OfflineRecord).where(OfflineRecord.id == record_id).with_for_update()
    return (await session.execute(stmt)).scalar_one_or_none()


async def same_training(
    session: AsyncSession,
    *,
    teacher_id: uuid.UUID,
    training_name: str,
    start_date: date,
    end_date: date,
    other_than: uuid.UUID | None = None,
) -> uuid.UUID | None:
    """The record of this teacher at this training on these dates, if one exists. Takes the
    teacher's transaction-level advisory lock first, so two concurrent entries of the same
    training queue and the second one finds the first."""
    await session.execute(
        select(func.pg_advisory_xact_lock(func.hashtextextended(f"records:{teacher_id}", 0)))
    )
    stmt = select(OfflineRecord.id).where(
        OfflineRecord.teacher_id == teacher_id,
        OfflineRecord.training_name == training_name,
        OfflineRecord.start_date == start_date,
        OfflineRecord.end_date == end_date,
    )
    if other_than is not None:
        stmt = stmt.where(OfflineRecord.id != other_than)
    return (await session.execute(stmt.limit(1))).scalar_one_or_none()


async def history(reader: Reader, record_id: uuid.UUID) -> list[RecordHistory]:
    stmt = (
        select(RecordHistory).where(RecordHistory.record_id == record_id).order_by(RecordHistory.id)
    )
    return await reader.all(RecordHistory, stmt)


async def page(
    reader: Reader,
    *,
    scope: Sequence[str],
    institution: str | None = None,
    teacher_id: uuid.UUID | None,
    status: str | None,
    org_id: str | None,
    year: int | None,
    after: uuid.UUID | None,
    limit: int,
) -> list[OfflineRecord]:
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
    return await reader.all(OfflineRecord, stmt)
