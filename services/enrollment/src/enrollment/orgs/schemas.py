"""Request and response models of the org tree (组织机构)."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field


class OrgRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: str
    parent_id: str | None
    level: str
    name: str
    province_id: str
    city_id: str | None
    county_id: str | None


class OrgCreate(BaseModel):
    """新增学校: a county admin (or the city/province above it) adds a school of its county."""

    parent_id: str = Field(min_length=1, max_length=40, description="The county's id")
    level: Literal["school"] = "school"
    name: str = Field(min_length=1, max_length=100)
