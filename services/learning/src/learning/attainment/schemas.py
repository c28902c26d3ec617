"""Request and response models of attainment: a teacher's hours against the project's rules,
school-based hours, held completions."""

from __future__ import annotations

import uuid
from datetime import datetime
from decimal import Decimal
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from yanxiu.kit.bounds import Moment


class BucketStatus(BaseModel):
    code: str
    name: str
    recorded_hours: Decimal
    counted_hours: Decimal
    min_hours: Decimal
    max_hours: Decimal | None
    met: bool


class PlanProgress(BaseModel):
    """学习进度: hours by category and whether the project's requirements are met."""

    project_id: uuid.UUID
    project_year: int
    rule_set: str | None
    met: bool
    total_hours: Decimal
    total_min_hours: Decimal | None
    buckets: list[BucketStatus]
    missing: list[str]
    uncounted_hours: Decimal


class ProgressRead(BaseModel):
    teacher_id: uuid.UUID
    items: list[PlanProgress]
    next_cursor: str | None = None


class SchoolBasedHours(BaseModel):
    """校本研修学时, entered by the school: `record_id` is the school's own id for the record
    (a retry with the same id records nothing new)."""

    model_config = ConfigDict(extra="forbid")

    project_id: uuid.UUID
    record_id: str = Field(min_length=1, max_length=100)
    title: str = Field(min_length=1, max_length=200)
    hours: Decimal = Field(gt=0, le=60, decimal_places=1)
    completed_at: Moment | None = None


class SchoolBasedResult(BaseModel):
    record_id: str
    completion_id: uuid.UUID | None
    # held: dated after the learning window closed, waiting for an admin (rule set says hold).
    status: Literal["recorded", "already_recorded", "held"]


class HeldCompletionRead(BaseModel):
    """待审完成记录: a completion dated after its window closed, held for an admin (rule set
    `late_completions: hold`); it counts nothing until accepted."""

    id: uuid.UUID
    teacher_id: uuid.UUID
    teacher_name: str
    project_id: uuid.UUID
    school_id: str
    source: str
    course_title: str
    category: str
    hours: Decimal
    completed_at: datetime
    reason: str | None
    status: str
    completion_id: uuid.UUID | None
    decided_by: str | None
    decided_at: datetime | None
    created_at: datetime


class HeldPage(BaseModel):
    items: list[HeldCompletionRead]
    next_cursor: str | None = None


class HeldDecision(BaseModel):
    """accept: the completion counts (once per course, like any other); reject: it never does."""

    model_config = ConfigDict(extra="forbid")

    decision: Literal["accept", "reject"]
    reason: str = Field(min_length=1, max_length=300, pattern=r"^[^\x00-\x1f\x7f]+$")
