"""Response models of attainment: a teacher's hours against the project's rules."""

from __future__ import annotations

import uuid
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
    status: Literal["recorded", "already_recorded"]
