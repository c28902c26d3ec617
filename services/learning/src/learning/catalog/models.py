"""Tables of the course catalogue."""

from __future__ import annotations

import uuid
from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import DateTime, ForeignKey, Integer, Numeric, String, func
from sqlalchemy.dialects.postgresql import ARRAY, JSONB, UUID
from sqlalchemy.orm import Mapped, mapped_column

from learning.models import Base


class Topic(Base):
    """专题: a general-education topic that general courses belong to (e.g. 师德师风建设)."""

    __tablename__ = "topics"

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    name: Mapped[str] = mapped_column(String(100))
    is_ethics: Mapped[bool] = mapped_column(default=False)


class Course(Base):
    """课程: one course. Fields progress and providers rely on: id, title, hours, video_seconds,
    pass_mark, assessment, category."""

    __tablename__ = "courses"

    id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), primary_key=True, default=uuid.uuid4)
    code: Mapped[str] = mapped_column(String(60), unique=True)
    title: Mapped[str] = mapped_column(String(200))
    kind: Mapped[str] = mapped_column(String(20))  # required | elective
    scope: Mapped[str] = mapped_column(String(20))  # subject | general
    delivery: Mapped[str] = mapped_column(String(20), default="online")  # online | school_based
    topic_id: Mapped[str | None] = mapped_column(ForeignKey("topics.id"), nullable=True)
    hours: Mapped[Decimal] = mapped_column(Numeric(5, 1))
    stages: Mapped[list[str]] = mapped_column(ARRAY(String(20)), default=list)
    subjects: Mapped[list[str]] = mapped_column(ARRAY(String(40)), default=list)
    video_seconds: Mapped[int] = mapped_column(Integer)
    pass_mark: Mapped[int | None] = mapped_column(Integer, nullable=True)
    # [{"id": "q1", "text": ..., "options": [...], "answer": "B"}]; answers never leave the API.
    assessment: Mapped[list[dict[str, Any]]] = mapped_column(JSONB, default=list)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())

    @property
    def category(self) -> str:
        """The rule-set category: subject_required, general_elective, school_based, …"""
        if self.delivery == "school_based":
            return "school_based"
        return f"{self.scope}_{self.kind}"
