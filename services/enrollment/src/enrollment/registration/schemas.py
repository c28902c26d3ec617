"""Request and response models: 培训项目与报名: yearly projects and the registration cascade."""

from __future__ import annotations

import uuid
from datetime import date, datetime

from pydantic import BaseModel, ConfigDict, Field, model_validator

from yanxiu.contracts.enrollment import Stage


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
