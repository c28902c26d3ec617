"""Region rule sets (地区学分规则) as data: categories with annual caps, the yearly and 5-year
cycle requirement, how upstream facts map to categories and whether they count, and how a
year closes. Shipped in credits/data/regions/*.json (Shandong, Zhaoqing, Hefei); a new region
is a new file. A teacher's region is the one naming their city, else their province, else the
one file marked `fallback`."""

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
    source: str | None = None  # the notice the numbers come from
    fallback: bool = False  # the region of a teacher whose city and province name none
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

    def counts(self, category: str) -> bool:
        """Whether hours of `category` count toward the year's requirement: only the region's
        own categories do (capped where they have a cap). Others, e.g. an upstream category
        the region does not map, are recorded and shown, never counted."""
        return any(c.code == category for c in self.categories)

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
    every = {r.code: r for r in found}
    fallbacks = [r.code for r in found if r.fallback]
    if len(fallbacks) != 1:
        raise ValueError(f"exactly one region file is the fallback, found {fallbacks}")
    cities = [c for r in found for c in r.cities]
    provinces = [p for r in found for p in r.provinces]
    if len(set(cities)) != len(cities) or len(set(provinces)) != len(provinces):
        raise ValueError("a city or province is named by two region files")
    return every


def fallback_region() -> Region:
    """The region of teachers whose city and province no region file names."""
    return next(r for r in regions().values() if r.fallback)


def region_for(org: OrgPath, default: str | None = None) -> Region:
    """A teacher's region: a city rule set first, then a province's, then `default` (the
    fallback region unless named)."""
    return regions()[_region_code(org.city_id, org.province_id, default or fallback_region().code)]


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
