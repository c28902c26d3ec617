"""教师信息: teacher records, their personal data, history and transfers."""

from __future__ import annotations

import uuid
from datetime import date

from pydantic import BaseModel, ConfigDict, Field

from yanxiu.contracts.enrollment import Stage


class TeacherCreate(BaseModel):
    name: str = Field(min_length=1, max_length=50)
    id_number: str = Field(min_length=15, max_length=40, description="身份证号 (GB 11643)")
    school_id: str = Field(min_length=1, max_length=40)
    stage: Stage
    subject: str = Field(min_length=1, max_length=40)
    is_rural: bool = Field(description="乡村教师 (required)")
    phone: str | None = Field(default=None, pattern=r"^1\d{10}$", description="手机号")


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
