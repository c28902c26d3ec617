"""Request and response models of showcase: lessons, selections, awards, quotas and scores."""

from __future__ import annotations

import re
import uuid
from datetime import date, datetime
from decimal import Decimal
from typing import Annotated, Literal

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field

from yanxiu.contracts.enrollment import Stage

Curriculum = Literal["national", "local", "school"]
Track = Literal["competition", "showcase"]
Level = Literal["teacher", "school", "county", "city", "province"]
PromotionLevel = Literal["school", "county", "city", "province"]
CityAward = Literal["first", "second", "third"]


def _squash(value: object) -> object:
    """Titles and versions compare as written, minus stray whitespace (the uniqueness rule
    must not be dodged by a trailing space)."""
    return re.sub(r"\s+", " ", value).strip() if isinstance(value, str) else value


Text = Annotated[str, BeforeValidator(_squash)]


class LessonCreate(BaseModel):
    """创课: the teacher's own recorded lesson; school and teacher come from the token."""

    year: int = Field(ge=2000, le=2100)
    stage: Stage
    grade: Text = Field(min_length=1, max_length=20, description="年级, e.g. 三年级")
    subject: Text = Field(min_length=1, max_length=40)
    textbook_version: Text = Field(min_length=1, max_length=60, description="教材版本")
    title: Text = Field(min_length=1, max_length=200, description="课例名称 (课题/章节)")
    curriculum: Curriculum = Field(
        default="national", description="national 国家课程 / local 地方课程 / school 校本课程"
    )
    track: Track | None = Field(
        default=None, description="competition 赛课 (national curriculum) or showcase 晒课"
    )
    video_url: str = Field(min_length=1, max_length=500, pattern=r"^https?://")
    national_platform_no: Text | None = Field(
        default=None, max_length=60, description="国家平台课例号"
    )


class LessonUpdate(BaseModel):
    """修改: only the fields sent change. Content only while no level has selected the lesson
    (by its teacher); the 国家平台课例号 at any time (teacher or an admin above it)."""

    model_config = ConfigDict(extra="forbid")

    grade: Text | None = Field(default=None, min_length=1, max_length=20)
    subject: Text | None = Field(default=None, min_length=1, max_length=40)
    textbook_version: Text | None = Field(default=None, min_length=1, max_length=60)
    title: Text | None = Field(default=None, min_length=1, max_length=200)
    video_url: str | None = Field(default=None, min_length=1, max_length=500, pattern=r"^https?://")
    national_platform_no: Text | None = Field(default=None, min_length=1, max_length=60)


class LessonRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    year: int
    teacher_id: uuid.UUID
    teacher_name: str
    stage: str
    grade: str
    subject: str
    textbook_version: str
    title: str
    curriculum: str
    track: str
    video_url: str
    national_platform_no: str | None
    province_id: str
    city_id: str
    county_id: str
    school_id: str
    level: str
    award: str | None
    provincial: bool
    created_at: datetime


class PromotionRead(BaseModel):
    """One selection: which level (and unit) selected the lesson, who and when."""

    model_config = ConfigDict(from_attributes=True)

    level: str
    org_id: str
    promoted_by: str
    promoted_at: datetime


class PromotionCreate(BaseModel):
    level: PromotionLevel = Field(description="the level selecting the lesson (the caller's)")


class AwardCreate(BaseModel):
    award: CityAward = Field(description="市级奖级: first 一等奖 / second 二等奖 / third 三等奖")


class AwardRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    lesson_id: uuid.UUID
    year: int
    city_id: str
    scope: str
    award: str
    awarded_at: datetime


class AwardQuota(BaseModel):
    award: CityAward
    name: str
    places: int
    used: int
    remaining: int


class CityQuotaRead(BaseModel):
    city_id: str
    city_name: str
    total: int
    city_level_used: int = Field(description="city-level competition lessons already pushed")
    awards: list[AwardQuota]


class QuotaTableRead(BaseModel):
    year: int
    table_year: int = Field(description="the year whose published table applies")
    source: str
    city_level_deadline: date | None = Field(description="市级优课提交截止 (inclusive)")
    limits: dict[str, float]
    totals: dict[str, int]
    cities: list[CityQuotaRead]


class LessonScore(BaseModel):
    rank: int
    lesson_id: uuid.UUID
    title: str
    teacher_name: str
    city_id: str
    award: str | None
    provincial: bool
    reviews: int
    review_mean: Decimal | None
    award_points: Decimal
    total: Decimal
