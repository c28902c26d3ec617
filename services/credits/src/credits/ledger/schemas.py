"""Request and response models of the ledger and its reports."""

from __future__ import annotations

import uuid
from datetime import datetime
from decimal import Decimal

from pydantic import BaseModel, ConfigDict, Field


class EntryRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    year: int
    region: str
    category: str
    hours: Decimal
    source_kind: str
    source_id: str
    description: str
    reason: str | None
    occurred_at: datetime
    recorded_at: datetime


class CategoryBalance(BaseModel):
    category: str
    name: str
    recorded_hours: Decimal
    counted_hours: Decimal
    annual_cap: Decimal | None
    above_cap_hours: Decimal
    note: str | None = None


class BalanceRead(BaseModel):
    teacher_id: uuid.UUID
    year: int
    region: str
    as_of: str | None
    categories: list[CategoryBalance]
    counted_total: Decimal
    required_total: Decimal
    complete: bool
    cycle: str
    cycle_counted_total: Decimal
    cycle_required: Decimal


class ReversalCreate(BaseModel):
    entry_id: uuid.UUID
    reason: str = Field(min_length=2, max_length=500)


class TranscriptYear(BaseModel):
    year: int
    region: str
    recorded_hours: Decimal
    counted_hours: Decimal
    complete: bool
    categories: list[CategoryBalance]


class TranscriptRead(BaseModel):
    teacher_id: uuid.UUID
    name: str | None
    years: list[TranscriptYear]


class OrgTotal(BaseModel):
    org_id: str
    teachers: int
    teachers_with_credit: int
    complete: int
    completion_rate: float
    counted_hours: Decimal


class TotalsRead(BaseModel):
    year: int
    level: str
    parent: str
    rows: list[OrgTotal]
