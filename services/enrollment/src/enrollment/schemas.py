"""Request and response models of the enrollment API."""

from __future__ import annotations

import uuid
from datetime import date, datetime

from pydantic import BaseModel, ConfigDict, Field, model_validator

from yanxiu.contracts.enrollment import Stage


class OrgRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: str
    parent_id: str | None
    level: str
    name: str


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


class ProjectCreate(BaseModel):
    year: int = Field(ge=2000, le=2100)
    stage: Stage
    name: str = Field(min_length=1, max_length=200)
    registration_opens_on: date
    registration_closes_on: date

    @model_validator(mode="after")
    def _window(self) -> ProjectCreate:
        if self.registration_closes_on < self.registration_opens_on:
            raise ValueError("报名截止日期早于开始日期 (registration closes before it opens)")
        return self


class ProjectRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    year: int
    stage: str
    name: str
    registration_opens_on: date
    registration_closes_on: date


class RegistrationCreate(BaseModel):
    teacher_id: uuid.UUID
    subject: str = Field(min_length=1, max_length=40)


class RegistrationRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    project_id: uuid.UUID
    teacher_id: uuid.UUID
    subject: str
    school_id: str
    registered_at: datetime
