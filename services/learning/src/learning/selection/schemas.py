"""Request and response models of selection."""

from __future__ import annotations

import uuid
from datetime import datetime
from decimal import Decimal
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field

from learning.catalog.schemas import CourseRead, TopicRead


class SchoolTopicsPut(BaseModel):
    model_config = ConfigDict(extra="forbid")

    project_id: uuid.UUID
    topic_ids: list[Annotated[str, Field(max_length=40)]] = Field(max_length=20)


class SchoolTopicsRead(BaseModel):
    project_id: uuid.UUID
    school_id: str
    max_topics: int
    mandatory_topics: list[str]
    topics: list[TopicRead]


class SelectionCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    project_id: uuid.UUID
    course_id: uuid.UUID


class SelectionRead(BaseModel):
    id: uuid.UUID
    teacher_id: uuid.UUID
    project_id: uuid.UUID
    course: CourseRead
    created_at: datetime
    outside_school_topics: bool = Field(
        default=False,
        description="A general elective outside the topics of the teacher's school now "
        "(selected before a transfer): kept, and its hours count once completed",
    )


class SelectionsRead(BaseModel):
    items: list[SelectionRead]
    selected_hours: Decimal
    elective_min_hours: Decimal
    elective_max_hours: Decimal | None
    next_cursor: str | None = None


class Suggestion(BaseModel):
    """选课建议: courses that would fill one requirement's remaining hours."""

    bucket: str
    name: str
    remaining_hours: Decimal
    compulsory: list[CourseRead]
    courses: list[CourseRead]


class SuggestionsRead(BaseModel):
    teacher_id: uuid.UUID
    project_id: uuid.UUID
    suggestions: list[Suggestion]
