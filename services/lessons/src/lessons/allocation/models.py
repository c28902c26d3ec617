"""Tables of allocation: the review pools' members (from enrollment's events), allocation runs
and the assignments they made (观评课任务)."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import DateTime, Integer, String, UniqueConstraint, func
from sqlalchemy.dialects.postgresql import JSONB, UUID
from sqlalchemy.orm import Mapped, mapped_column

from lessons.models import Base

DEPARTED = "departed"
WITHDRAWN = "withdrawn"  # the registration was withdrawn (退出项目)


class Reviewer(Base):
    """A teacher registered in a project: a member of the (stage, subject) review pool."""

    __tablename__ = "reviewers"

    project_id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), primary_key=True)
    # Indexed alone too (migration 0008): transfers and departures find a teacher's
    # memberships across projects, and reads of a teacher's assignments check them.
    teacher_id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), primary_key=True, index=True)
    year: Mapped[int] = mapped_column(Integer)
    teacher_name: Mapped[str] = mapped_column(String(50))
    stage: Mapped[str] = mapped_column(String(20))
    subject: Mapped[str] = mapped_column(String(40))
    province_id: Mapped[str] = mapped_column(String(40))
    city_id: Mapped[str] = mapped_column(String(40))
    county_id: Mapped[str] = mapped_column(String(40))
    school_id: Mapped[str] = mapped_column(String(40))
    # active; withdrawn (退出项目); departed (离职: out of the pools, no review or flag, read
    # only from above the school it left, until a school takes the teacher in).
    status: Mapped[str] = mapped_column(String(20), default="active")

    @property
    def org_path(self) -> list[str]:
        return [self.province_id, self.city_id, self.county_id, self.school_id]

    @property
    def departed(self) -> bool:
        return self.status == DEPARTED


class AllocationRun(Base):
    """One allocation run: who ran it, with which seed and parameters, and what it did."""

    __tablename__ = "allocation_runs"

    id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), primary_key=True, default=uuid.uuid4)
    project_id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), index=True)
    year: Mapped[int] = mapped_column(Integer)
    seed: Mapped[int] = mapped_column(Integer)
    params: Mapped[dict[str, Any]] = mapped_column(JSONB)
    summary: Mapped[dict[str, Any]] = mapped_column(JSONB, default=dict)
    assignments: Mapped[int] = mapped_column(Integer, default=0)
    run_by: Mapped[str] = mapped_column(String(64))
    started_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    finished_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)


class Assignment(Base):
    """观评课任务: one lesson pushed to one reviewer, by one run; never moved afterwards."""

    __tablename__ = "assignments"

    id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), primary_key=True)
    # The run is written in the same transaction and never deleted; a foreign key would cost
    # a lookup per row of a three-million-row COPY (migration 0004).
    run_id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True))
    project_id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True))
    reviewer_id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True))
    lesson_id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True))
    assigned_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), server_default=func.now()
    )

    # One index besides the key: (reviewer, lesson, project) is unique and serves every
    # lookup (a reviewer's lessons, a reviewer's flag on a lesson); each extra index on three
    # million rows written at once costs seconds.
    __table_args__ = (UniqueConstraint("reviewer_id", "lesson_id", "project_id"),)
