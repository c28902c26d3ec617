"""Request and response models: 培训项目与报名: yearly projects and the registration cascade."""

from __future__ import annotations

import uuid
from datetime import date, datetime

from pydantic import BaseModel, ConfigDict, Field, model_validator

from yanxiu.contracts.enrollment import Stage
from yanxiu.kit.bounds import Day, OrgId

RULE_SET_CODE = r"^[a-z0-9]+(-[a-z0-9]+)*$"
"""A rule set's code: lower-case words joined by hyphens ("shandong-2023", "zhaoqing")."""

# (step, opens field, closes field), in the order of the cascade.
WINDOWS = (
    ("开放参训区域 open counties", "counties_open_from", "counties_open_until"),
    ("开放参训单位 open schools", "schools_open_from", "schools_open_until"),
    ("报名 registration", "registration_opens_on", "registration_closes_on"),
    ("提交 submission", "submission_opens_on", "submission_closes_on"),
)


class ProjectCreate(BaseModel):
    """A project with the window of each step (Asia/Shanghai dates, inclusive). A window left out
    defaults to the registration window."""

    year: int = Field(ge=2000, le=2100)
    stage: Stage
    name: str = Field(min_length=1, max_length=200)
    owner_org_id: OrgId | None = Field(
        default=None,
        description="项目归属: the province, or the city of a city-run programme, that runs the "
        "project (default: the caller's own province or city)",
    )
    rule_set: str | None = Field(
        default=None,
        max_length=40,
        pattern=RULE_SET_CODE,
        description='The rule set the project names, e.g. "shandong-2023", "hefei-it2-2021"',
    )
    counties_open_from: Day | None = None
    counties_open_until: Day | None = None
    schools_open_from: Day | None = None
    schools_open_until: Day | None = None
    registration_opens_on: Day
    registration_closes_on: Day
    submission_opens_on: Day | None = None
    submission_closes_on: Day | None = None

    @model_validator(mode="after")
    def _windows(self) -> ProjectCreate:
        for _, start, end in WINDOWS:
            if getattr(self, start) is None:
                setattr(self, start, self.registration_opens_on)
            if getattr(self, end) is None:
                setattr(self, end, self.registration_closes_on)
        previous: date | None = None
        for step, start, end in WINDOWS:
            if getattr(self, end) < getattr(self, start):
                raise ValueError(
                    f"{step}: 截止日期早于开始日期 (the window closes before it opens)"
                )
            if previous is not None and getattr(self, start) < previous:
                raise ValueError(
                    f"{step}: 开始日期早于上一环节 (a step cannot open before the previous one)"
                )
            previous = getattr(self, start)
        return self


class ProjectRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    year: int
    stage: str
    name: str
    owner_org_id: str
    rule_set: str | None
    counties_open_from: date
    counties_open_until: date
    schools_open_from: date
    schools_open_until: date
    registration_opens_on: date
    registration_closes_on: date
    submission_opens_on: date
    submission_closes_on: date


class UnitsOpen(BaseModel):
    """开放参训区域 / 参训单位: the org ids to open (idempotent: opened ones stay opened)."""

    org_ids: list[OrgId] = Field(min_length=1, max_length=500)


class UnitRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    org_id: str
    level: str
    city_id: str
    county_id: str
    opened_by: str
    opened_at: datetime


class SubmissionRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    org_id: str
    level: str
    city_id: str
    submitted_by: str
    submitted_at: datetime


class RegistrationCreate(BaseModel):
    teacher_id: uuid.UUID
    subject: str = Field(min_length=1, max_length=40)


class RegistrationRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    project_id: uuid.UUID
    teacher_id: uuid.UUID
    subject: str
    city_id: str | None = None
    county_id: str | None = None
    school_id: str
    registered_at: datetime


class RegistrationListItem(RegistrationRead):
    teacher_name: str
