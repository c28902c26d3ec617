"""Tables of the insights schema: the dashboards' read model (看板), built from every service's
events and from nothing else.

Two kinds of table:
- **facts**, one row per thing as the events last described it: a teacher in a project
  (`standings`), a counted course (`completions`), a submitted review (`reviews`), a school's
  peer-review load (`review_loads`), a teacher's
  credit year (`teacher_years`), an offline record (`offline_records`), a lesson (`lessons`);
- **tallies**, the numbers the dashboards read, kept in step with the facts in the same
  transaction: `tallies` (per scope × org × metric × stage × subject × rural/urban) and
  `daily` (per scope × org × metric × day, for the trend). A scope is a project (`p:<id>`) or
  a year (`y:<year>`: credits, certificates, offline records and lessons are the year's, not one
  project's). Each fact adds its contribution at its school, county, city and province, so a
  dashboard at any level reads a handful of rows, whatever the number of teachers.

A tally is never incremented by an event directly: a handler loads the facts it changes, and
the tallies move by the difference of their contributions before and after (insights.feed.tally).
So an event that arrives twice, late, or out of order between topics cannot count twice, and a
rebuild (`yanxiu insights rebuild`) gets the same numbers from the same facts."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import (
    BigInteger,
    Boolean,
    CheckConstraint,
    Date,
    DateTime,
    Index,
    Integer,
    Numeric,
    SmallInteger,
    String,
    Text,
    func,
)
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from yanxiu.kit.db import service_metadata
from yanxiu.kit.tables import machinery_tables

SCHEMA = "insights"
metadata = service_metadata(SCHEMA)
machinery = machinery_tables(metadata)

PLAN_STATUSES = ("active", "withdrawn", "departed")
EMPLOYMENT = ("active", "departed")
RECORD_STATUSES = ("submitted", "county_passed", "approved", "county_rejected", "city_rejected")
LESSON_LEVELS = ("school", "county", "city", "province")


def _within(column: str, values: tuple[str, ...]) -> str:
    return f"{column} IN ({', '.join(repr(v) for v in values)})"


class Base(DeclarativeBase):
    metadata = metadata


class Project(Base):
    """A yearly training project as enrollment opened it (ProjectOpened)."""

    __tablename__ = "projects"

    project_id: Mapped[uuid.UUID] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    year: Mapped[int] = mapped_column(Integer)
    stage: Mapped[str] = mapped_column(String(20))
    owner_org_id: Mapped[str | None] = mapped_column(String(40))
    opened_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class Standing(Base):
    """One teacher in one project: where they stand in the funnel (报名 → 计划 → 开始学习 →
    达标), with the place, stage, subject and rural/urban of the registration. A row can exist
    before its registration arrives (events of other topics may come first); it counts only
    while `registered_at` is set."""

    __tablename__ = "standings"
    __table_args__ = (
        CheckConstraint(
            f"plan_status IS NULL OR {_within('plan_status', PLAN_STATUSES)}", name="plan_status"
        ),
        CheckConstraint(_within("employment", EMPLOYMENT), name="employment"),
        Index("ix_standings_city", "project_id", "city_id", "teacher_id"),
        Index("ix_standings_county", "project_id", "county_id", "teacher_id"),
        Index("ix_standings_school", "project_id", "school_id", "teacher_id"),
        Index("ix_standings_teacher", "teacher_id"),
    )

    project_id: Mapped[uuid.UUID] = mapped_column(primary_key=True)
    teacher_id: Mapped[uuid.UUID] = mapped_column(primary_key=True)
    year: Mapped[int | None] = mapped_column(Integer)
    teacher_name: Mapped[str] = mapped_column(String(64), default="")
    province_id: Mapped[str] = mapped_column(String(40))
    city_id: Mapped[str] = mapped_column(String(40))
    county_id: Mapped[str] = mapped_column(String(40))
    school_id: Mapped[str] = mapped_column(String(64))
    stage: Mapped[str] = mapped_column(String(20), default="")
    subject: Mapped[str] = mapped_column(String(40), default="")
    is_rural: Mapped[bool | None] = mapped_column(Boolean)
    employment: Mapped[str] = mapped_column(String(12), default="active")
    registered_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    plan_status: Mapped[str | None] = mapped_column(String(12))
    plan_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    started_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    met_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    # Hours studied by category (counted courses, before any cap), decimal strings.
    hours: Mapped[dict[str, Any]] = mapped_column(JSONB, default=dict)
    # Reviews (观评课) this teacher submitted that count; what they were assigned is counted
    # per school (ReviewLoad), as lessons reports it.
    reviews_done: Mapped[int] = mapped_column(Integer, default=0)
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())


class Completion(Base):
    """A course that counts for a teacher in a project: once per course identity (课程标识)."""

    __tablename__ = "completions"
    __table_args__ = (Index("ix_completions_completion", "completion_id", unique=True),)

    project_id: Mapped[uuid.UUID] = mapped_column(primary_key=True)
    teacher_id: Mapped[uuid.UUID] = mapped_column(primary_key=True)
    course_key: Mapped[str] = mapped_column(String(200), primary_key=True)
    completion_id: Mapped[uuid.UUID] = mapped_column()
    category: Mapped[str] = mapped_column(String(40))
    hours: Mapped[Decimal] = mapped_column(Numeric(8, 2))


class Review(Base):
    """A peer-review assignment (观评课) and whether its review is in and counts."""

    __tablename__ = "reviews"
    __table_args__ = (Index("ix_reviews_reviewer", "project_id", "reviewer_id"),)

    assignment_id: Mapped[uuid.UUID] = mapped_column(primary_key=True)
    project_id: Mapped[uuid.UUID] = mapped_column()
    reviewer_id: Mapped[uuid.UUID] = mapped_column()
    done: Mapped[bool] = mapped_column(Boolean, default=False)


class ReviewLoad(Base):
    """How many peer-review assignments a school's teachers hold in a project (lessons'
    `reviews_allocated`, one snapshot per school after each allocation run)."""

    __tablename__ = "review_loads"

    project_id: Mapped[uuid.UUID] = mapped_column(primary_key=True)
    school_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    province_id: Mapped[str] = mapped_column(String(40))
    city_id: Mapped[str] = mapped_column(String(40))
    county_id: Mapped[str] = mapped_column(String(40))
    assigned: Mapped[int] = mapped_column(Integer)
    allocated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class TeacherYear(Base):
    """A teacher's continuing-education year as credits last reported it (学分登记, 证书)."""

    __tablename__ = "teacher_years"
    __table_args__ = (Index("ix_teacher_years_county", "year", "county_id"),)

    teacher_id: Mapped[uuid.UUID] = mapped_column(primary_key=True)
    year: Mapped[int] = mapped_column(Integer, primary_key=True)
    province_id: Mapped[str] = mapped_column(String(40))
    city_id: Mapped[str] = mapped_column(String(40))
    county_id: Mapped[str] = mapped_column(String(40))
    school_id: Mapped[str] = mapped_column(String(64))
    total_hours: Mapped[Decimal] = mapped_column(Numeric(10, 2), default=Decimal(0))
    complete: Mapped[bool] = mapped_column(Boolean, default=False)
    # When hours were first registered, and when the year became complete (for the trend).
    credited_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    complete_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    tallied_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    certificate_id: Mapped[uuid.UUID | None] = mapped_column()
    certified_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class OfflineRecord(Base):
    """An offline training record (线下培训学时) at its current approval step."""

    __tablename__ = "offline_records"
    __table_args__ = (
        CheckConstraint(_within("status", RECORD_STATUSES), name="status"),
        Index("ix_offline_records_waiting", "status", "county_id", "changed_at"),
        Index("ix_offline_records_city", "status", "city_id", "changed_at"),
    )

    record_id: Mapped[uuid.UUID] = mapped_column(primary_key=True)
    teacher_id: Mapped[uuid.UUID] = mapped_column()
    year: Mapped[int] = mapped_column(Integer)
    province_id: Mapped[str] = mapped_column(String(40))
    city_id: Mapped[str] = mapped_column(String(40))
    county_id: Mapped[str] = mapped_column(String(40))
    school_id: Mapped[str] = mapped_column(String(64))
    status: Mapped[str] = mapped_column(String(24))
    category: Mapped[str] = mapped_column(String(40))
    hours: Mapped[Decimal] = mapped_column(Numeric(8, 2))
    changed_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class Lesson(Base):
    """A lesson in the year's 优课 selection: the levels that selected it, and its award."""

    __tablename__ = "lessons"

    lesson_id: Mapped[uuid.UUID] = mapped_column(primary_key=True)
    teacher_id: Mapped[uuid.UUID] = mapped_column()
    year: Mapped[int] = mapped_column(Integer)
    province_id: Mapped[str] = mapped_column(String(40))
    city_id: Mapped[str] = mapped_column(String(40))
    county_id: Mapped[str] = mapped_column(String(40))
    school_id: Mapped[str] = mapped_column(String(64))
    stage: Mapped[str] = mapped_column(String(20))
    subject: Mapped[str] = mapped_column(String(40))
    submitted_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    # Levels that selected it, each with when (ISO text): {"school": "...", "county": "..."}.
    levels: Mapped[dict[str, Any]] = mapped_column(JSONB, default=dict)
    award: Mapped[str | None] = mapped_column(String(12))


class Tally(Base):
    """A number of the dashboards: one metric of one scope at one org, per stage × subject ×
    rural/urban (empty stage or subject, null rural: not known for that fact)."""

    __tablename__ = "tallies"
    __table_args__ = (Index("ix_tallies_children", "scope", "parent_id", "metric"),)

    scope: Mapped[str] = mapped_column(String(48), primary_key=True)
    org_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    metric: Mapped[str] = mapped_column(String(64), primary_key=True)
    stage: Mapped[str] = mapped_column(String(20), primary_key=True)
    subject: Mapped[str] = mapped_column(String(40), primary_key=True)
    # 'r' rural, 'u' urban, '' not known: part of the key, so not null.
    area: Mapped[str] = mapped_column(String(1), primary_key=True)
    level: Mapped[int] = mapped_column(SmallInteger)
    parent_id: Mapped[str] = mapped_column(String(64))
    value: Mapped[Decimal] = mapped_column(Numeric(14, 2))


class TallyTotal(Base):
    """A number of the dashboards at one org, all stages, subjects and areas together: the
    `tallies` rolled up, kept in the same transaction. What a dashboard without a filter reads
    (a county's drill-down: one row per school and metric, not one per school, metric, stage,
    subject and area)."""

    __tablename__ = "tally_totals"
    # Covering: a drill-down reads its children's rows from the index alone (a county's ~100
    # schools × metrics sit together there, while in the table they are spread over ~1,000
    # pages: 4.8 ms → well under 1 ms at a million teachers, bench.insights_dashboard --explain).
    __table_args__ = (
        Index(
            "ix_tally_totals_children",
            "scope",
            "parent_id",
            postgresql_include=["org_id", "level", "metric", "value"],
        ),
    )

    scope: Mapped[str] = mapped_column(String(48), primary_key=True)
    org_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    metric: Mapped[str] = mapped_column(String(64), primary_key=True)
    level: Mapped[int] = mapped_column(SmallInteger)
    parent_id: Mapped[str] = mapped_column(String(64))
    value: Mapped[Decimal] = mapped_column(Numeric(14, 2))


class DrilldownRow(Base):
    """An org's line in its parent's drill-down table (下级单位完成情况): the table's numbers,
    one column each, kept from the same deltas as `tally_totals` in the same transaction. A
    county's drill-down reads its ~100 schools' lines (× 2 scopes), not ~900 metric rows to
    pivot. Columns: `tally.DRILLDOWN_COLUMNS`."""

    __tablename__ = "drilldown_rows"
    __table_args__ = (
        Index(
            "ix_drilldown_rows_children",
            "scope",
            "parent_id",
            postgresql_include=[
                "org_id",
                "level",
                "registered",
                "plan_active",
                "started",
                "requirements_met",
                "reviews_assigned",
                "reviews_done",
                "credits_registered",
                "certificates_issued",
                "offline_waiting",
            ],
        ),
    )

    scope: Mapped[str] = mapped_column(String(48), primary_key=True)
    org_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    level: Mapped[int] = mapped_column(SmallInteger)
    parent_id: Mapped[str] = mapped_column(String(64))
    registered: Mapped[int] = mapped_column(BigInteger, server_default="0")
    plan_active: Mapped[int] = mapped_column(BigInteger, server_default="0")
    started: Mapped[int] = mapped_column(BigInteger, server_default="0")
    requirements_met: Mapped[int] = mapped_column(BigInteger, server_default="0")
    reviews_assigned: Mapped[int] = mapped_column(BigInteger, server_default="0")
    reviews_done: Mapped[int] = mapped_column(BigInteger, server_default="0")
    credits_registered: Mapped[int] = mapped_column(BigInteger, server_default="0")
    certificates_issued: Mapped[int] = mapped_column(BigInteger, server_default="0")
    offline_waiting: Mapped[int] = mapped_column(BigInteger, server_default="0")


class Daily(Base):
    """How many reached a metric on each day (Asia/Shanghai), at one org: the trend."""

    __tablename__ = "daily"

    scope: Mapped[str] = mapped_column(String(48), primary_key=True)
    org_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    metric: Mapped[str] = mapped_column(String(64), primary_key=True)
    day: Mapped[date] = mapped_column(Date, primary_key=True)
    value: Mapped[Decimal] = mapped_column(Numeric(14, 2))


class OrgName(Base):
    """Names of orgs as enrollment serves them (the events carry only ids), kept to label the
    dashboards; refreshed when older than a day."""

    __tablename__ = "org_names"

    org_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    parent_id: Mapped[str | None] = mapped_column(String(64))
    level: Mapped[str] = mapped_column(String(12))
    name: Mapped[str] = mapped_column(Text)
    fetched_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
