"""Request and response models of providers and their completion events."""

from __future__ import annotations

import uuid
from datetime import datetime
from decimal import Decimal
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from learning.providers.models import XapiMapping
from yanxiu.kit.bounds import AwareMoment

# Printable text: PostgreSQL text cannot hold NUL, and control characters are never meant.
PRINTABLE = r"^[^\x00-\x1f\x7f]+$"

# The rule sets' categories a provider's own course may count towards.
CATEGORIES = (
    "subject_required",
    "subject_elective",
    "general_required",
    "general_elective",
    "school_based",
)
Category = Literal[
    "subject_required", "subject_elective", "general_required", "general_elective", "school_based"
]


class ProviderCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    code: str = Field(min_length=2, max_length=40, pattern=r"^[a-z0-9][a-z0-9_-]*$")
    name: str = Field(min_length=1, max_length=100, pattern=PRINTABLE, description="机构名称")


class ProviderRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    code: str
    name: str
    province_id: str
    created_at: datetime


class KeyIssued(BaseModel):
    """Shown once: the secret is never returned again."""

    key_id: str
    secret: str
    provider_id: uuid.UUID
    created_at: datetime


class KeyRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: str
    created_at: datetime
    revoked_at: datetime | None
    last_used_at: datetime | None


class CourseRef(BaseModel):
    """A catalogue course by `id` or `code`, or the provider's own course by title, category
    and hours."""

    model_config = ConfigDict(extra="forbid")

    id: uuid.UUID | None = None
    code: str | None = Field(default=None, min_length=1, max_length=60, pattern=PRINTABLE)
    title: str | None = Field(default=None, min_length=1, max_length=200, pattern=PRINTABLE)
    category: Category | None = None
    hours: Decimal | None = Field(default=None, gt=0, le=200, decimal_places=1)

    @model_validator(mode="after")
    def _one_form(self) -> CourseRef:
        own = (self.title, self.category, self.hours)
        if self.id is None and self.code is None and None in own:
            raise ValueError("give course.id or course.code, or title, category and hours")
        return self


class CompletionIn(BaseModel):
    """A course a teacher completed on the provider's platform (课程完成)."""

    model_config = ConfigDict(extra="forbid")

    # ≤ 160: attainment keys the completion on "<provider id>:<event id>" (≤ 200 characters).
    event_id: str = Field(
        min_length=1, max_length=160, pattern=PRINTABLE, description="机构自己的事件编号 (unique)"
    )
    teacher_id: uuid.UUID
    project_id: uuid.UUID
    course: CourseRef
    completed_at: AwareMoment
    # The learner's score (0–100), if the provider grades: a repeat of a course that counts
    # already adds no hours but may raise the best score.
    score: Decimal | None = Field(default=None, ge=0, le=100, decimal_places=1)


class CompletionBatchIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    completions: list[CompletionIn] = Field(min_length=1, max_length=500)


class CompletionResult(BaseModel):
    """recorded: the course counts now (`completion_id`). already_counted: the teacher's
    completion of this course counts already (`completion_id` is that one, perhaps from another
    channel): this event is kept as an attempt (`attempt_id`), adds no hours, and its score may
    raise `best_score`. held: dated after the project's learning window closed, kept for an
    admin's decision (`attempt_id`), counting nothing until accepted. already_recorded: the
    fact was recorded before."""

    event_id: str
    status: Literal["recorded", "already_recorded", "already_counted", "held"]
    completion_id: uuid.UUID | None
    course_id: uuid.UUID | None
    course_title: str
    category: str
    hours: Decimal
    retracted_at: datetime | None = None
    attempt_id: uuid.UUID | None = None
    best_score: Decimal | None = None


class BatchItemResult(BaseModel):
    event_id: str
    http_status: int
    result: CompletionResult | None = None
    problem: dict[str, object] | None = None


class CompletionBatchResult(BaseModel):
    results: list[BatchItemResult]


XapiMappingStatus = XapiMapping


class XapiMappingRead(BaseModel):
    """What one completion statement became (学习记录映射结果)."""

    statement_id: uuid.UUID
    status: XapiMappingStatus = Field(
        description="counted, already_counted (the course counts already), held (after the "
        "learning window: an admin decides), already_recorded, waiting (the teacher's plan, the "
        "course or the account link is not known yet: tried again when it appears) or "
        "unmappable (this statement can never count)"
    )
    code: str | None = Field(
        default=None, description="The problem code that kept it from counting"
    )
    detail: str | None = Field(
        default=None, description="That problem in words: Chinese, with English beside it"
    )
    completion_id: uuid.UUID | None = None
    teacher_id: uuid.UUID | None = Field(default=None, description="waiting: the teacher")
    course_key: str | None = Field(default=None, description="waiting: the course id or code")
    stored: AwareMoment
    mapped_at: AwareMoment
