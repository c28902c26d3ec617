"""Tables of records: offline training hours (线下培训学时) and their audit history."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import (
    BigInteger,
    Date,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    Numeric,
    String,
    Text,
    func,
)
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column

from credits.models import Base


class OfflineRecord(Base):
    """One teacher's attendance at one offline training, entered by an institution and
    carried through county review (初审) and city approval (审批)."""

    __tablename__ = "offline_records"

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    teacher_id: Mapped[uuid.UUID] = mapped_column(index=True)
    teacher_name: Mapped[str] = mapped_column(String(64))
    province_id: Mapped[str] = mapped_column(String(32))
    city_id: Mapped[str] = mapped_column(String(32))
    county_id: Mapped[str] = mapped_column(String(32))
    school_id: Mapped[str] = mapped_column(String(64))
    institution_user_id: Mapped[str] = mapped_column(String(64))
    training_name: Mapped[str] = mapped_column(String(200))
    category: Mapped[str] = mapped_column(String(32))
    start_date: Mapped[date] = mapped_column(Date)
    end_date: Mapped[date] = mapped_column(Date)
    half_days: Mapped[int] = mapped_column(Integer, default=0)
    days: Mapped[int] = mapped_column(Integer, default=0)
    hours: Mapped[Decimal] = mapped_column(Numeric(8, 2))
    year: Mapped[int] = mapped_column(Integer)
    # The year the ledger counted the approved hours in: `year`, or the next one when
    # registration for `year` had closed and the region moves late records forward.
    credited_year: Mapped[int | None] = mapped_column(Integer, nullable=True)
    status: Mapped[str] = mapped_column(String(24), index=True)
    reject_reason: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())

    __table_args__ = (Index("ix_offline_records_scope", "city_id", "county_id", "status"),)

    def org_path(self) -> list[str]:
        return [self.province_id, self.city_id, self.county_id, self.school_id]


class RecordHistory(Base):
    """Audit trail of a record: who did what, when, why, and the record before and after."""

    __tablename__ = "offline_record_history"

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=True)
    record_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("credits.offline_records.id", ondelete="CASCADE"), index=True
    )
    actor_id: Mapped[str] = mapped_column(String(64))
    actor_role: Mapped[str] = mapped_column(String(32))
    action: Mapped[str] = mapped_column(String(24))
    reason: Mapped[str | None] = mapped_column(Text)
    before: Mapped[dict[str, Any] | None] = mapped_column(JSONB)
    after: Mapped[dict[str, Any] | None] = mapped_column(JSONB)
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
