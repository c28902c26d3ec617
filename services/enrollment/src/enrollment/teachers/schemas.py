"""教师信息: teacher records, their personal data, history and transfers."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from yanxiu.contracts.enrollment import Stage


class TeacherCreate(BaseModel):
    name: str = Field(min_length=1, max_length=50)
    id_number: str = Field(min_length=15, max_length=40, description="身份证号 (GB 11643)")
    school_id: str = Field(min_length=1, max_length=40)
    stage: Stage
    subject: str = Field(min_length=1, max_length=40)
    is_rural: bool = Field(description="乡村教师 (required)")
    phone: str | None = Field(
        default=None, max_length=11, pattern=r"^1\d{10}$", description="手机号"
    )


class TeacherUpdate(BaseModel):
    """修正/补充: only the fields sent change; the school changes by transfer, the status by
    departure. `phone: null` removes the phone number."""

    model_config = ConfigDict(extra="forbid")

    name: str | None = Field(default=None, min_length=1, max_length=50)
    id_number: str | None = Field(default=None, min_length=15, max_length=40)
    stage: Stage | None = None
    subject: str | None = Field(default=None, min_length=1, max_length=40)
    is_rural: bool | None = None
    phone: str | None = Field(default=None, max_length=11, pattern=r"^1\d{10}$")


class TeacherTransfer(BaseModel):
    to_school_id: str = Field(min_length=1, max_length=40, description="调入学校")


class TeacherRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    name: str
    id_number: str = Field(description="身份证号, masked unless the caller may see it")
    gender: str
    birth_date: date
    phone: str | None = Field(default=None, description="手机号, masked")
    stage: str
    subject: str
    is_rural: bool
    status: str
    verified: bool
    school_id: str
    county_id: str
    city_id: str


class TeacherChangeRead(BaseModel):
    """One line of a record's history: who, when, what before and after (personal data masked)."""

    model_config = ConfigDict(from_attributes=True)

    id: int
    action: str
    changed_by: str
    changed_by_role: str | None
    changed_by_name: str | None
    changed_at: datetime
    before: dict[str, Any] | None
    after: dict[str, Any] | None


TeacherStatus = Literal["active", "departed"]
