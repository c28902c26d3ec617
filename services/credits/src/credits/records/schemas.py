"""Request and response bodies of offline records."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from decimal import Decimal
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from yanxiu.kit.bounds import Day, OrgPathIn


class RecordIn(BaseModel):
    """An institution's entry for a teacher credits knows from enrollment's events: the record
    is named and placed as enrollment says. `teacher_name` and `org` are still accepted (the
    institutions' systems send them) but ignored; the response shows the name and place used."""

    model_config = ConfigDict(extra="forbid")

    teacher_id: uuid.UUID
    teacher_name: str | None = Field(
        default=None, min_length=1, max_length=64, description="ignored: enrollment's name counts"
    )
    org: OrgPathIn | None = Field(default=None, description="ignored: enrollment's place counts")
    training_name: str = Field(min_length=1, max_length=200)
    category: str = Field(min_length=1, max_length=32)
    start_date: Day
    end_date: Day
    half_days: int = Field(default=0, ge=0, le=400)
    days: int = Field(default=0, ge=0, le=400)


class BatchIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    records: list[RecordIn] = Field(min_length=1, max_length=500)


class CorrectionIn(BaseModel):
    """Fields an institution may correct on a rejected record."""

    model_config = ConfigDict(extra="forbid")

    training_name: str | None = Field(default=None, min_length=1, max_length=200)
    category: str | None = Field(default=None, min_length=1, max_length=32)
    start_date: Day | None = None
    end_date: Day | None = None
    half_days: int | None = Field(default=None, ge=0, le=400)
    days: int | None = Field(default=None, ge=0, le=400)


class DecisionIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    decision: Literal["pass", "reject"]
    reason: str | None = Field(default=None, max_length=500)


class RecordOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    teacher_id: uuid.UUID
    teacher_name: str
    province_id: str
    city_id: str
    county_id: str
    school_id: str
    training_name: str
    category: str
    start_date: date
    end_date: date
    half_days: int
    days: int
    hours: Decimal
    year: int
    credited_year: int | None = Field(
        default=None,
        description="计入学分的年度 (the year the ledger counted the approved hours in; the "
        "next year when the training's year had closed and the region moves late records)",
    )
    status: str
    status_zh: str = ""
    reject_reason: str | None
    created_at: datetime
    updated_at: datetime


class HistoryOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    actor_id: str
    actor_role: str
    action: str
    reason: str | None
    before: dict[str, Any] | None
    after: dict[str, Any] | None
    at: datetime


class RecordDetail(RecordOut):
    history: list[HistoryOut] = []
