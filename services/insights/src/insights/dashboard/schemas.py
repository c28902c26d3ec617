"""What the dashboards answer. Counts are integers; hours are decimal strings (exact)."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from decimal import Decimal
from typing import Literal

from pydantic import BaseModel, Field

Level = Literal["province", "city", "county", "school"]
TeacherMetric = Literal[
    "registered", "plan_active", "started", "requirements_met", "not_started", "not_met"
]


class ProjectRead(BaseModel):
    project_id: uuid.UUID
    name: str
    year: int
    stage: str


class ProjectList(BaseModel):
    items: list[ProjectRead]


class OrgRef(BaseModel):
    org_id: str
    name: str = Field(description="机构名称 (the id itself when enrollment has not named it)")
    level: Level


class Funnel(BaseModel):
    registered: int = Field(description="已报名")
    plan_active: int = Field(description="学习计划生效")
    started: int = Field(description="已开始学习")
    requirements_met: int = Field(description="达到学习要求")
    credits_registered: int = Field(description="学分已登记 (the year's)")
    year_complete: int = Field(description="年度学时达标 (the year's)")
    certificates_issued: int = Field(description="已发证书 (the year's)")


class LessonCounts(BaseModel):
    submitted: int = Field(description="晒课")
    school: int = Field(description="校级遴选")
    county: int = Field(description="县级遴选")
    city: int = Field(description="市级遴选")
    province: int = Field(description="省级优课")
    awarded: int = Field(description="获奖")


class ReviewCounts(BaseModel):
    assigned: int = Field(description="观评课已分配")
    done: int = Field(description="观评课已完成")


class Waiting(BaseModel):
    county_review: int = Field(description="线下学时待初审 (county)")
    city_approval: int = Field(description="线下学时待审批 (city)")


class Overview(BaseModel):
    project: ProjectRead
    org: OrgRef
    path: list[OrgRef] = Field(description="from the caller's own org down to this one")
    funnel: Funnel
    hours_by_category: dict[str, Decimal]
    lessons: LessonCounts
    reviews: ReviewCounts
    offline_waiting: Waiting
    as_of: datetime


class OrgRow(BaseModel):
    org_id: str
    name: str
    level: Level
    has_children: bool
    registered: int
    plan_active: int
    started: int
    requirements_met: int
    credits_registered: int
    certificates_issued: int
    reviews_assigned: int
    reviews_done: int
    offline_waiting: int
    met_rate: float | None = Field(description="达标率: requirements met / registered")


class OrgBreakdown(BaseModel):
    org: OrgRef
    items: list[OrgRow]


class TrendPoint(BaseModel):
    day: date
    registered: int
    plan_active: int
    started: int
    requirements_met: int


class Trend(BaseModel):
    org: OrgRef
    items: list[TrendPoint]


class TeacherRow(BaseModel):
    teacher_id: uuid.UUID
    name: str = Field(description="姓名, masked (张*)")
    school_id: str
    school_name: str
    stage: str
    subject: str
    hours: Decimal = Field(description="hours studied, every category")
    started_on: date | None
    met_on: date | None


class TeacherPage(BaseModel):
    items: list[TeacherRow]
    next_cursor: str | None = None


class WaitingRecord(BaseModel):
    record_id: uuid.UUID
    teacher_id: uuid.UUID
    year: int
    status: str
    status_zh: str
    category: str
    hours: Decimal
    school_id: str
    school_name: str
    changed_at: datetime


class WaitingPage(BaseModel):
    items: list[WaitingRecord]
    next_cursor: str | None = None
