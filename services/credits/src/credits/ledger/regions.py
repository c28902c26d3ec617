"""Region rule sets (地区学分规则) as data: categories with annual caps, the yearly and 5-year
cycle requirement, how upstream facts map to categories and whether they count, and how a
year closes. Shipped in credits/data/regions/*.json; a new region is a new file."""

from __future__ import annotations

import json
from datetime import date
from decimal import Decimal
from functools import cache
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from yanxiu.contracts.envelope import OrgPath

_DIR = Path(__file__).resolve().parent.parent / "data" / "regions"


class Category(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    code: str
    name: str
    annual_cap: Decimal | None = None


class Region(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    code: str
    name: str
    cities: list[str] = Field(default_factory=list)
    provinces: list[str] = Field(default_factory=list)
    categories: list[Category]
    annual_required: Decimal
    cycle_years: int = 5
    cycle_start_year: int = 2021
    cycle_required: Decimal
    category_map: dict[str, str] = Field(default_factory=dict)
    count_course_completions: bool = False
    count_requirements_met: bool = False
    project_credits_min: Decimal | None = None
    project_credits_max: Decimal | None = None
    award_hours: dict[str, Decimal] = Field(default_factory=dict)
    award_category: str = "award"
    year_deadline: str = Field(default="12-31", pattern=r"^\d{2}-\d{2}$")
    late_records: Literal["refuse", "next_year"] = "refuse"

    def category(self, upstream: str) -> str:
        """The region's category for an upstream category (unknown ones keep their name)."""
        return self.category_map.get(upstream, upstream)

    def cap(self, category: str) -> Decimal | None:
        return next((c.annual_cap for c in self.categories if c.code == category), None)

    def deadline(self, year: int) -> date:
        """The last day (Asia/Shanghai) on which credits of `year` may be registered."""
        return _deadline(year, self.year_deadline)

    def cycle_of(self, year: int) -> tuple[int, int]:
        start = self.cycle_start_year + (year - self.cycle_start_year) // self.cycle_years * (
            self.cycle_years
        )
        return start, start + self.cycle_years - 1

    def project_credits(self, hours: Decimal) -> Decimal:
        """Shandong: the project's hours become 24–28 credits."""
        low = self.project_credits_min if self.project_credits_min is not None else hours
        high = self.project_credits_max if self.project_credits_max is not None else hours
        return min(max(hours, low), high)


@cache
def _deadline(year: int, month_day: str) -> date:
    return date.fromisoformat(f"{year}-{month_day}")


@cache
def regions() -> dict[str, Region]:
    found = [Region.model_validate(json.loads(p.read_text("utf-8"))) for p in _DIR.glob("*.json")]
    return {r.code: r for r in found}


def region_for(org: OrgPath, default: str = "shandong") -> Region:
    """A teacher's region: a city rule set first, then a province's, then the default."""
    return regions()[_region_code(org.city_id, org.province_id, default)]


@cache
def _region_code(city_id: str, province_id: str, default: str) -> str:
    every = regions()
    for r in every.values():
        if city_id in r.cities:
            return r.code
    for r in every.values():
        if province_id in r.provinces:
            return r.code
    return default
