"""Request and response models of progress and assessments."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, field_validator

from yanxiu.kit.bounds import DeviceClock

MAX_SECONDS = 24 * 3600.0
SESSION_PATTERN = r"^[A-Za-z0-9_.:-]{8,64}$"

Second = Annotated[float, Field(ge=0, le=MAX_SECONDS)]


class HeartbeatIn(BaseModel):
    """心跳: the player's state now and what it played since the previous heartbeat. Players
    send one when playback starts (no segments), then every 10–30 s."""

    model_config = ConfigDict(extra="forbid")

    course_id: uuid.UUID
    project_id: uuid.UUID
    device_session_id: str = Field(
        max_length=64,
        pattern=SESSION_PATTERN,
        description="One id per player start on a device; a new one takes over from the old",
    )
    position: Second = Field(description="Playhead, seconds from the start")
    segments: list[tuple[Second, Second]] = Field(
        default_factory=list,
        max_length=100,
        description="Played [start, end] ranges (seconds) since the previous heartbeat",
    )
    client_at: DeviceClock | None = Field(default=None, description="The device's clock")

    @field_validator("segments")
    @classmethod
    def _ordered(cls, v: list[tuple[float, float]]) -> list[tuple[float, float]]:
        for start, end in v:
            if end < start:
                raise ValueError("a segment ends before it starts")
        return v


class HeartbeatBatchIn(BaseModel):
    """The app's batched heartbeats, oldest first."""

    model_config = ConfigDict(extra="forbid")

    heartbeats: list[HeartbeatIn] = Field(min_length=1, max_length=100)


class HeartbeatResult(BaseModel):
    outcome: str = Field(description="accepted, or the refusal / error code")
    accepted: bool
    course_id: uuid.UUID
    credited_seconds: float = 0.0
    watched_seconds: float = 0.0
    video_seconds: int = 0
    watched: bool = False
    completed: bool = False


class HeartbeatBatchResult(BaseModel):
    results: list[HeartbeatResult]


class AssessmentIn(BaseModel):
    """考核: the answers to a course's questions, by question id."""

    model_config = ConfigDict(extra="forbid")

    course_id: uuid.UUID
    project_id: uuid.UUID
    answers: dict[Annotated[str, Field(max_length=40)], Annotated[str, Field(max_length=200)]] = (
        Field(max_length=200)
    )


class AssessmentResult(BaseModel):
    attempt_id: uuid.UUID
    course_id: uuid.UUID
    score: int
    pass_mark: int
    passed: bool
    attempts: int
    watched: bool
    completed: bool


class ProgressRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    course_id: uuid.UUID
    course_title: str | None = None
    project_id: uuid.UUID
    video_seconds: int
    watched_seconds: float
    watched_ratio: float
    position: float
    heartbeats: int
    refused: int
    attempts: int
    best_score: int | None
    watched_at: datetime | None
    passed_at: datetime | None
    completed_at: datetime | None


class SchoolRefusals(BaseModel):
    school_id: str
    county_id: str
    city_id: str
    by_reason: dict[str, int]
    total: int


class RefusalReport(BaseModel):
    """Refused heartbeats in the caller's scope: totals by reason, then per school (paged)."""

    by_reason: dict[str, int]
    total: int
    items: list[SchoolRefusals]
    next_cursor: str | None = None
    day_from: date | None = None
    day_to: date | None = None
