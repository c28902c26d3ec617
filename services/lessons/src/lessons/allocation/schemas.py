"""Request and response models of allocation and reviews."""

from __future__ import annotations

import uuid
from datetime import datetime
from decimal import Decimal
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field


class AllocationCreate(BaseModel):
    project_id: uuid.UUID
    seed: int | None = Field(default=None, ge=0, le=2**31 - 1)
    reviews_per_teacher: int = Field(default=3, ge=1, le=10)
    exclude_own_school: bool = True


class AllocationRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    project_id: uuid.UUID
    year: int
    seed: int
    params: dict[str, Any]
    summary: dict[str, Any]
    assignments: int
    run_by: str
    started_at: datetime
    finished_at: datetime | None


class AssignmentRead(BaseModel):
    id: uuid.UUID
    run_id: uuid.UUID
    project_id: uuid.UUID
    lesson_id: uuid.UUID
    lesson_title: str
    stage: str
    subject: str
    video_url: str
    assigned_at: datetime


class ReviewCreate(BaseModel):
    assignment_id: uuid.UUID
    # Points per rubric criterion (lessons.reviews.rubric: 100 in all); the service checks
    # each against its criterion.
    scores: dict[Annotated[str, Field(max_length=40)], Annotated[int, Field(ge=0, le=100)]] = Field(
        max_length=20
    )
    comment: str = Field(min_length=5, max_length=2000)


class ReviewRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    assignment_id: uuid.UUID
    lesson_id: uuid.UUID
    reviewer_id: uuid.UUID
    scores: dict[str, int]
    total_score: Decimal
    comment: str
    status: str
    submitted_at: datetime
    revoke_reason: str | None


class RevokeBody(BaseModel):
    reason: str = Field(min_length=2, max_length=500)


class FlagBody(BaseModel):
    reason: str = Field(min_length=2, max_length=500)


class FlagRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    lesson_id: uuid.UUID
    reason: str
    created_at: datetime
