"""Request and response models: 工作坊 workshops, hosts, members and cases."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

MIN_HOSTS, MAX_HOSTS = 3, 6


class WorkshopCreate(BaseModel):
    """A subject workshop (city or county admin) or a topic workshop 专题工作坊 (province)."""

    project_id: uuid.UUID
    kind: Literal["subject", "topic"] = "subject"
    subject: str | None = Field(default=None, min_length=1, max_length=40)
    name: str = Field(min_length=1, max_length=200)


class WorkshopRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    project_id: uuid.UUID
    kind: str
    level: str
    org_id: str
    stage: str
    subject: str | None
    name: str
    status: str
    created_at: datetime


class Host(BaseModel):
    """工作坊主持人: a workshop_host account."""

    model_config = ConfigDict(from_attributes=True)

    user_id: str = Field(min_length=1, max_length=100)
    name: str = Field(min_length=1, max_length=100)


class HostsSet(BaseModel):
    hosts: list[Host] = Field(max_length=50)


class JoinRequest(BaseModel):
    """A teacher joins with their own token; a school admin may name one of its teachers."""

    teacher_id: uuid.UUID | None = None


class MemberRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    workshop_id: uuid.UUID
    teacher_id: uuid.UUID
    joined_at: datetime


class CaseCreate(BaseModel):
    title: str = Field(min_length=1, max_length=200)
    author_teacher_id: uuid.UUID | None = None  # a teacher submits their own; a host names one


class CaseRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    workshop_id: uuid.UUID
    title: str
    author_teacher_id: uuid.UUID
    submitted_by: str
    origin_level: str
    county_recommended_at: datetime | None
    city_recommended_at: datetime | None
    exemplary_at: datetime | None
    created_at: datetime
