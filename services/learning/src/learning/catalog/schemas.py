"""Request and response models of the catalogue. Assessment answers go in, never out."""

from __future__ import annotations

import uuid
from decimal import Decimal
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

Kind = Literal["required", "elective"]
Scope = Literal["subject", "general"]
Delivery = Literal["online", "school_based"]


class Question(BaseModel):
    """考核题: a single-choice question; `answer` is one of the option keys."""

    model_config = ConfigDict(extra="forbid")

    id: str = Field(min_length=1, max_length=40)
    text: str = Field(min_length=1, max_length=1000)
    options: dict[Annotated[str, Field(max_length=40)], Annotated[str, Field(max_length=500)]] = (
        Field(min_length=2, max_length=8)
    )
    answer: str = Field(max_length=40)

    @model_validator(mode="after")
    def _answer_is_an_option(self) -> Question:
        if self.answer not in self.options:
            raise ValueError("answer must be one of the option keys")
        return self


class QuestionRead(BaseModel):
    id: str
    text: str
    options: dict[str, str]


class CourseCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    code: str = Field(min_length=1, max_length=60, pattern=r"^[A-Za-z0-9][A-Za-z0-9_.-]*$")
    title: str = Field(min_length=1, max_length=200)
    kind: Kind
    scope: Scope
    delivery: Delivery = "online"
    topic_id: str | None = Field(default=None, max_length=40)
    hours: Decimal = Field(gt=0, le=100, decimal_places=1)
    stages: list[Annotated[str, Field(max_length=40)]] = Field(default_factory=list, max_length=10)
    subjects: list[Annotated[str, Field(max_length=40)]] = Field(
        default_factory=list, max_length=60
    )
    video_seconds: int = Field(ge=0, le=86_400)
    pass_mark: int | None = Field(default=None, ge=0, le=100)
    assessment: list[Question] = Field(default_factory=list, max_length=100)

    @model_validator(mode="after")
    def _fits(self) -> CourseCreate:
        if self.scope == "general" and self.topic_id is None:
            raise ValueError("a general course belongs to a topic (topic_id)")
        if self.scope == "subject" and self.topic_id is not None:
            raise ValueError("a subject course has no general topic")
        if self.assessment and self.pass_mark is None:
            raise ValueError("an assessment needs a pass_mark (percent)")
        if len({q.id for q in self.assessment}) != len(self.assessment):
            raise ValueError("question ids must be unique")
        return self


class CourseRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    code: str
    title: str
    kind: str
    scope: str
    delivery: str
    category: str
    topic_id: str | None
    hours: Decimal
    stages: list[str]
    subjects: list[str]
    video_seconds: int
    pass_mark: int | None
    questions: list[QuestionRead]


class TopicRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: str
    name: str
    is_ethics: bool
