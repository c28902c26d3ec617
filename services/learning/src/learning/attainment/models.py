"""Tables of attainment: each completion once, and the teacher's last evaluation per project."""

from __future__ import annotations

import uuid
from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import DateTime, Index, Numeric, String, UniqueConstraint, func
from sqlalchemy.dialects.postgresql import JSONB, UUID
from sqlalchemy.orm import Mapped, mapped_column

from learning.models import Base


class Completion(Base):
    """课程完成 / 观评课: one fact that earns hours. (source, source_ref) is unique, so the same
    fact counts once however often it is replayed; a revoked one keeps its row (revoked_at)."""

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

    __table_args__ = (
        UniqueConstraint("source", "source_ref"),
        Index("ix_completions_teacher_project", "teacher_id", "project_id"),
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
