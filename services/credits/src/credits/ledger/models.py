"""Tables of the ledger: append-only entries, per-category sums and each teacher-year's state
(both kept in the same transaction as the entries), and the teacher read model."""

from __future__ import annotations

import uuid
from datetime import datetime
from decimal import Decimal

from sqlalchemy import (
    CheckConstraint,
    DateTime,
    Index,
    Integer,
    Numeric,
    SmallInteger,
    String,
    UniqueConstraint,
    func,
)
from sqlalchemy.dialects.postgresql import UUID
from sqlalchemy.orm import Mapped, mapped_column

from credits.models import Base


class LedgerEntry(Base):
    """学分台账: one credited fact, never updated or deleted (a trigger refuses both).
    (teacher, source_kind, source_id) is unique: a fact counts once whatever is replayed; a
    correction is an entry of kind "reversal" whose source_id is the reversed entry's id.
    A course completion also carries its project and course identity (`course_key`): at most
    one live entry per (teacher, project, course), held in `course_slots` by a trigger
    (migration 0009), whatever completion ids learning sends."""

    __tablename__ = "ledger_entries"

    id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), primary_key=True)
    teacher_id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True))
    year: Mapped[int] = mapped_column(Integer)
    region: Mapped[str] = mapped_column(String(40))
    category: Mapped[str] = mapped_column(String(40))
    hours: Mapped[Decimal] = mapped_column(Numeric(7, 1))
    source_kind: Mapped[str] = mapped_column(String(20))
    source_id: Mapped[str] = mapped_column(String(200))
    description: Mapped[str] = mapped_column(String(300), default="")
    reason: Mapped[str | None] = mapped_column(String(500), nullable=True)
    actor: Mapped[str | None] = mapped_column(String(64), nullable=True)
    province_id: Mapped[str] = mapped_column(String(40))
    city_id: Mapped[str] = mapped_column(String(40))
    county_id: Mapped[str] = mapped_column(String(40))
    school_id: Mapped[str] = mapped_column(String(40))
    occurred_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    recorded_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), server_default=func.now()
    )
    project_id: Mapped[uuid.UUID | None] = mapped_column(UUID(as_uuid=True), nullable=True)
    course_key: Mapped[str | None] = mapped_column(String(240), nullable=True)

    __table_args__ = (
        UniqueConstraint("teacher_id", "source_kind", "source_id"),
        Index("ix_ledger_entries_teacher_recorded", "teacher_id", "recorded_at"),
        CheckConstraint("course_key IS NULL OR project_id IS NOT NULL", name="course_in_project"),
    )


class CourseSlot(Base):
    """一门课程只计一次: the live ledger entry of a course per teacher and project. Kept by the
    trigger `ledger_course_slot` (migration 0009), never by the service: an entry with a
    course_key takes the slot (a second live one fails with unique_violation
    `uq_ledger_one_live_course`), the reversal of that entry frees it."""

    __tablename__ = "course_slots"

    teacher_id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), primary_key=True)
    project_id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), primary_key=True)
    course_key: Mapped[str] = mapped_column(String(240), primary_key=True)
    entry_id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), unique=True)


class LedgerTotal(Base):
    """Recorded hours per teacher, year and category (the sum of its entries)."""

    __tablename__ = "ledger_totals"

    teacher_id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), primary_key=True)
    year: Mapped[int] = mapped_column(Integer, primary_key=True)
    category: Mapped[str] = mapped_column(String(40), primary_key=True)
    region: Mapped[str] = mapped_column(String(40))
    hours: Mapped[Decimal] = mapped_column(Numeric(9, 1))

    # Updated in place batch after batch: room on the page keeps the updates HOT.
    __table_args__ = ({"postgresql_with": {"fillfactor": 70}},)


class TeacherYear(Base):
    """A teacher's year: recorded and counted (capped) hours and whether the year's task is
    complete; what balances and org totals read instead of scanning the ledger."""

    __tablename__ = "teacher_years"

    teacher_id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), primary_key=True)
    year: Mapped[int] = mapped_column(Integer, primary_key=True)
    region: Mapped[str] = mapped_column(String(40))
    province_id: Mapped[str] = mapped_column(String(40))
    city_id: Mapped[str] = mapped_column(String(40))
    county_id: Mapped[str] = mapped_column(String(40))
    school_id: Mapped[str] = mapped_column(String(40))
    recorded_hours: Mapped[Decimal] = mapped_column(Numeric(9, 1))
    counted_hours: Mapped[Decimal] = mapped_column(Numeric(9, 1))
    complete: Mapped[bool] = mapped_column(default=False)
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())

    __table_args__ = (
        Index("ix_teacher_years_year_city", "year", "city_id", "county_id", "school_id"),
        {"postgresql_with": {"fillfactor": 70}},
    )


class OrgYearTotal(Base):
    """Per org (city, county, school) and year: teachers with credit, complete ones and
    counted hours, moved by the same statement that updates teacher-years, so an org's
    totals are a few rows read whatever its size. Each transaction adds to one of
    `ORG_TOTAL_SLOTS` slots, at random, so concurrent consumers do not queue on a city's
    row; readers sum the slots."""

    __tablename__ = "org_year_totals"

    year: Mapped[int] = mapped_column(Integer, primary_key=True)
    level: Mapped[str] = mapped_column(String(10), primary_key=True)
    org_id: Mapped[str] = mapped_column(String(40), primary_key=True)
    slot: Mapped[int] = mapped_column(SmallInteger, primary_key=True, default=0)
    parent_id: Mapped[str] = mapped_column(String(40))
    with_credit: Mapped[int] = mapped_column(Integer, default=0)
    complete: Mapped[int] = mapped_column(Integer, default=0)
    counted_hours: Mapped[Decimal] = mapped_column(Numeric(14, 1), default=0)

    __table_args__ = (
        Index("ix_org_year_totals_parent", "year", "level", "parent_id"),
        {"postgresql_with": {"fillfactor": 70}},
    )


ORG_TOTAL_SLOTS = 16


class OrgTeachers(Base):
    """Teachers known per org (city, county, school): the reports' denominators, kept by
    statement-level triggers on `teachers` (migration 0004), so a registration, a transfer
    and a bulk load all move them."""

    __tablename__ = "org_teachers"

    level: Mapped[str] = mapped_column(String(10), primary_key=True)
    org_id: Mapped[str] = mapped_column(String(40), primary_key=True)
    parent_id: Mapped[str] = mapped_column(String(40))
    teachers: Mapped[int] = mapped_column(Integer)

    __table_args__ = (Index("ix_org_teachers_parent", "level", "parent_id"),)


class Teacher(Base):
    """Teachers known from enrollment's events: name and place (scope, report denominators)."""

    __tablename__ = "teachers"

    teacher_id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), primary_key=True)
    name: Mapped[str] = mapped_column(String(50))
    province_id: Mapped[str] = mapped_column(String(40))
    city_id: Mapped[str] = mapped_column(String(40))
    county_id: Mapped[str] = mapped_column(String(40))
    school_id: Mapped[str] = mapped_column(String(40))
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())

    __table_args__ = (Index("ix_teachers_org", "province_id", "city_id", "county_id", "school_id"),)

    @property
    def org_path(self) -> list[str]:
        return [self.province_id, self.city_id, self.county_id, self.school_id]
