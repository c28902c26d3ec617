"""Tables of the lessons schema. `Lesson` lives here because every feature package reads it;
each package declares its own other tables on this metadata."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import Boolean, CheckConstraint, DateTime, Index, Integer, String, func, text
from sqlalchemy.dialects.postgresql import UUID
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from yanxiu.kit.db import service_metadata
from yanxiu.kit.tables import machinery_tables

SCHEMA = "lessons"
metadata = service_metadata(SCHEMA)
machinery = machinery_tables(metadata)


class Base(DeclarativeBase):
    metadata = metadata


class Lesson(Base):
    """优课: a recorded lesson created by a teacher (创课) and selected upward level by level.

    `level` is the highest level that selected it: teacher (created) → school → county → city
    → province. Allocation relies on: id, year, stage, subject, level (city or province means
    city-level), curriculum ("national" only enters provincial review), teacher_id, school_id.

    `curriculum`: national 国家课程 / local 地方课程 / school 校本课程; `track`: competition 赛课
    (national curriculum: showcased and competing) or showcase 晒课 only (local and school-based
    curricula). Two rules live in the database as partial unique indexes:
    per city and year one lesson per stage × grade × subject × textbook version × lesson title at
    city level (每市每个年级每个学科每个版本每堂课限推1个), and one recommended lesson (selected by
    its school or above) per teacher and year (每位教师限推1个)."""

    __tablename__ = "lessons"
    __table_args__ = (
        CheckConstraint("curriculum IN ('national', 'local', 'school')", name="curriculum"),
        CheckConstraint(
            "level IN ('teacher', 'school', 'county', 'city', 'province')", name="level"
        ),
        CheckConstraint(
            "track = CASE WHEN curriculum = 'national' THEN 'competition' ELSE 'showcase' END",
            name="track_follows_curriculum",
        ),
        CheckConstraint(
            "award IS NULL OR (award IN ('first', 'second', 'third') AND track = 'competition'"
            " AND level IN ('city', 'province'))",
            name="award",
        ),
        CheckConstraint(
            "NOT provincial OR (track = 'competition' AND level = 'province')", name="provincial"
        ),
        Index(
            "uq_lessons_city_lesson",
            "city_id",
            "year",
            "stage",
            "grade",
            "subject",
            "textbook_version",
            "title",
            unique=True,
            postgresql_where=text("level IN ('city', 'province')"),
        ),
        Index(
            "uq_lessons_teacher_year",
            "teacher_id",
            "year",
            unique=True,
            postgresql_where=text("level <> 'teacher'"),
        ),
        Index("ix_lessons_pool", "year", "stage", "subject", "level"),
        Index("ix_lessons_city_id_year", "city_id", "year"),
        # Keyset pages of a county's or a school's lessons (ordered by id).
        Index("ix_lessons_county_id_id", "county_id", "id"),
        Index("ix_lessons_school_id_id", "school_id", "id"),
    )

    id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), primary_key=True, default=uuid.uuid4)
    year: Mapped[int] = mapped_column(Integer, index=True)
    teacher_id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), index=True)
    teacher_name: Mapped[str] = mapped_column(String(50))
    stage: Mapped[str] = mapped_column(String(20))
    grade: Mapped[str] = mapped_column(String(20))
    subject: Mapped[str] = mapped_column(String(40))
    textbook_version: Mapped[str] = mapped_column(String(60))
    title: Mapped[str] = mapped_column(String(200))
    curriculum: Mapped[str] = mapped_column(String(20), default="national")
    video_url: Mapped[str] = mapped_column(String(500))
    province_id: Mapped[str] = mapped_column(String(40))
    city_id: Mapped[str] = mapped_column(String(40))
    county_id: Mapped[str] = mapped_column(String(40))
    school_id: Mapped[str] = mapped_column(String(40))
    level: Mapped[str] = mapped_column(String(20), default="teacher")
    track: Mapped[str] = mapped_column(String(20), default="competition")
    # 国家平台课例号: the lesson's number on the national 一师一优课 platform (Annex 3).
    national_platform_no: Mapped[str | None] = mapped_column(String(60))
    # 市级奖级 (first/second/third), set once by the city within its quota.
    award: Mapped[str | None] = mapped_column(String(10))
    # 省级优课: selected by the province.
    provincial: Mapped[bool] = mapped_column(Boolean, default=False, server_default=text("false"))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())

    @property
    def org_path(self) -> list[str]:
        return [self.province_id, self.city_id, self.county_id, self.school_id]


# Placed last: the feature packages import Base from this module.
from lessons.allocation import models as _allocation  # noqa: E402
from lessons.reviews import models as _reviews  # noqa: E402
from lessons.showcase import models as _showcase  # noqa: E402

__all__ = ["Base", "Lesson", "_allocation", "_reviews", "_showcase"]
