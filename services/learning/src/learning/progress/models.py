"""Tables of progress (学习进度): the per-teacher watch clock, per-course verified progress, the
heartbeat log (one row per heartbeat, accepted or refused), refusal counters, assessment attempts.
"""

from __future__ import annotations

import uuid
from datetime import date, datetime
from typing import Any

from sqlalchemy import (
    BigInteger,
    Date,
    DateTime,
    Float,
    Integer,
    String,
    UniqueConstraint,
    func,
    text,
)
from sqlalchemy.dialects.postgresql import ARRAY, JSONB, UUID
from sqlalchemy.orm import Mapped, mapped_column

from learning.models import Base


class Viewer(Base):
    """One row per teacher: the device session that counts now and the real-time clock every
    heartbeat of that teacher is measured against (one clock for all courses, so two videos
    played at once cannot earn twice). Locked FOR UPDATE by each batch: it serialises one
    teacher's progress writes across concurrent batches and processes."""

    __tablename__ = "progress_viewers"

    teacher_id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), primary_key=True)
    session_id: Mapped[str | None] = mapped_column(String(64), nullable=True)
    # Sessions that were taken over; their heartbeats are refused (the newest few are kept).
    retired_sessions: Mapped[list[str]] = mapped_column(
        ARRAY(String(64)), server_default=text("'{}'")
    )
    last_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())


class CourseProgress(Base):
    """A teacher's verified progress on one course of one project: the union of verified
    played segments (seconds), the playhead, and when watching / the assessment / the course
    was completed."""

    __tablename__ = "course_progress"

    id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), primary_key=True, default=uuid.uuid4)
    teacher_id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True))
    project_id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True))
    course_id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True))
    province_id: Mapped[str] = mapped_column(String(40))
    city_id: Mapped[str] = mapped_column(String(40))
    county_id: Mapped[str] = mapped_column(String(40))
    school_id: Mapped[str] = mapped_column(String(40))
    video_seconds: Mapped[int] = mapped_column(Integer)
    segments: Mapped[list[list[float]]] = mapped_column(JSONB, server_default=text("'[]'"))
    watched_seconds: Mapped[float] = mapped_column(Float, server_default=text("0"))
    position: Mapped[float] = mapped_column(Float, server_default=text("0"))
    last_session: Mapped[str | None] = mapped_column(String(64), nullable=True)
    last_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    heartbeats: Mapped[int] = mapped_column(Integer, server_default=text("0"))
    refused: Mapped[int] = mapped_column(Integer, server_default=text("0"))
    watched_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    passed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    best_score: Mapped[int | None] = mapped_column(Integer, nullable=True)
    attempts: Mapped[int] = mapped_column(Integer, server_default=text("0"))
    completed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())

    __table_args__ = (UniqueConstraint("teacher_id", "course_id", "project_id"),)


class Heartbeat(Base):
    """One heartbeat as received (心跳), with its outcome: `accepted` or the refusal reason.
    Written with COPY, a batch at a time; an accepted heartbeat is answered only once its row
    is committed."""

    __tablename__ = "heartbeats"

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=True)
    teacher_id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True))
    project_id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True))
    course_id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True))
    session_id: Mapped[str] = mapped_column(String(64))
    position: Mapped[float] = mapped_column(Float)
    segments: Mapped[list[list[float]]] = mapped_column(JSONB)
    client_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    received_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    outcome: Mapped[str] = mapped_column(String(30))
    credited_seconds: Mapped[float] = mapped_column(Float, server_default=text("0"))


class Refusals(Base):
    """Refused heartbeats counted per project, school, day (Asia/Shanghai) and reason, for the
    admins' view; one upsert per batch."""

    __tablename__ = "progress_refusals"

    project_id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), primary_key=True)
    school_id: Mapped[str] = mapped_column(String(40), primary_key=True)
    day: Mapped[date] = mapped_column(Date, primary_key=True)
    reason: Mapped[str] = mapped_column(String(30), primary_key=True)
    province_id: Mapped[str] = mapped_column(String(40))
    city_id: Mapped[str] = mapped_column(String(40))
    county_id: Mapped[str] = mapped_column(String(40))
    count: Mapped[int] = mapped_column(BigInteger)


class AssessmentAttempt(Base):
    """考核: one submitted attempt at a course's assessment, scored on the server."""

    __tablename__ = "assessment_attempts"

    id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), primary_key=True, default=uuid.uuid4)
    teacher_id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), index=True)
    project_id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True))
    course_id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True))
    answers: Mapped[dict[str, Any]] = mapped_column(JSONB)
    score: Mapped[int] = mapped_column(Integer)
    pass_mark: Mapped[int] = mapped_column(Integer)
    passed: Mapped[bool]
    submitted_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), server_default=func.now()
    )
