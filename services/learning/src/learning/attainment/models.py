"""Tables of attainment: each counted completion once per course, the attempts and held
completions that count nothing (yet), and the teacher's last evaluation per project."""

from __future__ import annotations

import uuid
from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import (
    CheckConstraint,
    DateTime,
    Index,
    Numeric,
    String,
    UniqueConstraint,
    func,
    text,
)
from sqlalchemy.dialects.postgresql import JSONB, UUID
from sqlalchemy.orm import Mapped, mapped_column

from learning.models import Base

# The longest course identity (`yanxiu.contracts.learning.course_key_for`).
COURSE_KEY_LENGTH = 240


class Completion(Base):
    """课程完成 / 观评课: one fact that earns hours. (source, source_ref) is unique, so the same
    fact counts once however often it is replayed; a revoked one keeps its row (revoked_at).
    A course counts once per teacher and project whatever the channel: at most one live row
    per (teacher, project, course_key), a partial unique index (migration 0009). Another
    report of the same course is a `CompletionAttempt`."""

    __tablename__ = "completions"

    id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), primary_key=True, default=uuid.uuid4)
    teacher_id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True))
    project_id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True))
    source: Mapped[str] = mapped_column(String(20))
    source_ref: Mapped[str] = mapped_column(String(200))
    course_id: Mapped[uuid.UUID | None] = mapped_column(UUID(as_uuid=True), nullable=True)
    course_code: Mapped[str | None] = mapped_column(String(60), nullable=True)
    course_title: Mapped[str] = mapped_column(String(200))
    category: Mapped[str] = mapped_column(String(40))
    topic_id: Mapped[str | None] = mapped_column(String(40), nullable=True)
    hours: Mapped[Decimal] = mapped_column(Numeric(5, 1))
    provider_id: Mapped[str | None] = mapped_column(String(64), nullable=True)
    completed_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    revoked_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    revoke_reason: Mapped[str | None] = mapped_column(String(200), nullable=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    course_key: Mapped[str] = mapped_column(String(COURSE_KEY_LENGTH))
    # The best score (0–100) of this completion and the attempts at the same course.
    best_score: Mapped[Decimal | None] = mapped_column(Numeric(5, 1), nullable=True)

    __table_args__ = (
        UniqueConstraint("source", "source_ref"),
        Index("ix_completions_teacher_project", "teacher_id", "project_id"),
        Index(
            "uq_completions_live_course",
            "teacher_id",
            "project_id",
            "course_key",
            unique=True,
            postgresql_where=text("revoked_at IS NULL"),
        ),
    )


# attempt: the course already counts (another channel, event or statement): the score may
# raise the best score, the hours never count twice; promoted: it counts now, the counted
# completion it repeated having been revoked; held: outside the windows, waiting for an
# admin (rule set `late_completions: hold`); accepted / rejected: an admin's decision on a
# held one; withdrawn: its sender retracted or voided it.
ATTEMPT_STATUSES = ("attempt", "promoted", "held", "accepted", "rejected", "withdrawn")


class CompletionAttempt(Base):
    """一次重复或待审的完成: a completion report that counts no hours of its own, kept whole so
    that it can count later (promoted when the counted one is revoked, accepted by an admin
    when held). (source, source_ref) is unique here as in `completions`."""

    __tablename__ = "completion_attempts"

    id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), primary_key=True, default=uuid.uuid4)
    teacher_id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True))
    project_id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True))
    course_key: Mapped[str] = mapped_column(String(COURSE_KEY_LENGTH))
    status: Mapped[str] = mapped_column(String(20))
    source: Mapped[str] = mapped_column(String(20))
    source_ref: Mapped[str] = mapped_column(String(200))
    course_id: Mapped[uuid.UUID | None] = mapped_column(UUID(as_uuid=True), nullable=True)
    course_code: Mapped[str | None] = mapped_column(String(60), nullable=True)
    course_title: Mapped[str] = mapped_column(String(200))
    category: Mapped[str] = mapped_column(String(40))
    topic_id: Mapped[str | None] = mapped_column(String(40), nullable=True)
    hours: Mapped[Decimal] = mapped_column(Numeric(5, 1))
    provider_id: Mapped[str | None] = mapped_column(String(64), nullable=True)
    score: Mapped[Decimal | None] = mapped_column(Numeric(5, 1), nullable=True)
    completed_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    # The completion that counted when this was recorded, or the one it became.
    completion_id: Mapped[uuid.UUID | None] = mapped_column(UUID(as_uuid=True), nullable=True)
    # Why it was held, or why it was rejected or withdrawn.
    reason: Mapped[str | None] = mapped_column(String(300), nullable=True)
    decided_by: Mapped[str | None] = mapped_column(String(64), nullable=True)
    decided_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())

    __table_args__ = (
        UniqueConstraint("source", "source_ref"),
        CheckConstraint(
            "status IN ('attempt', 'promoted', 'held', 'accepted', 'rejected', 'withdrawn')",
            name="status",
        ),
        Index("ix_completion_attempts_course", "teacher_id", "project_id", "course_key"),
        Index(
            "ix_completion_attempts_held",
            "project_id",
            "created_at",
            postgresql_where=text("status = 'held'"),
        ),
    )


class Attainment(Base):
    """学时认定: the last evaluation of a teacher in a project, so a repeated evaluation with
    the same outcome emits nothing (RequirementsMet / RequirementsUnmet only on a change)."""

    __tablename__ = "attainments"

    teacher_id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), primary_key=True)
    project_id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), primary_key=True)
    met: Mapped[bool] = mapped_column(default=False)
    # Counted (capped) hours by bucket code, as decimal strings.
    hours_by_category: Mapped[dict[str, Any]] = mapped_column(JSONB, default=dict)
    total_hours: Mapped[Decimal] = mapped_column(Numeric(6, 1), default=Decimal(0))
    evaluation_id: Mapped[uuid.UUID | None] = mapped_column(UUID(as_uuid=True), nullable=True)
    evaluated_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), server_default=func.now()
    )
