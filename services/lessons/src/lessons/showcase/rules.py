"""The 优课 rules as data: levels and who selects at each, the per-year city quota tables
(Annex 2 of the 2020 plan), the province's deadline for city-level lessons and the award
weights in the provincial score. Loaded once per process from `lessons/data/*.json`; pure."""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from functools import cache
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from yanxiu.kit.auth import Role

DATA = Path(__file__).resolve().parent.parent / "data"
SHANGHAI = ZoneInfo("Asia/Shanghai")

LEVELS = ("teacher", "school", "county", "city", "province")
# The admin who selects a lesson up to each level (逐级遴选).
PROMOTER: dict[str, Role] = {
    "school": Role.school_admin,
    "county": Role.county_admin,
    "city": Role.city_admin,
    "province": Role.province_admin,
}
CITY_LEVEL = ("city", "province")  # 市级优课: selected by the city (and perhaps the province)
CITY_AWARDS = ("first", "second", "third")
AWARD_NAMES = {"first": "一等奖", "second": "二等奖", "third": "三等奖", "provincial": "省级优课"}
CURRICULA = {"national": "国家课程", "local": "地方课程", "school": "校本课程"}


def track_for(curriculum: str) -> str:
    """赛课 is for the national curriculum; local and school-based curricula showcase only."""
    return "competition" if curriculum == "national" else "showcase"


@dataclass(frozen=True)
class CityQuota:
    """One city's row of the quota table: places per award level."""

    city_id: str
    name: str
    first: int
    second: int
    third: int

    @property
    def total(self) -> int:
        return self.first + self.second + self.third

    def places(self, award: str) -> int:
        return int(getattr(self, award))


@dataclass(frozen=True)
class QuotaTable:
    """市级优课名额分配表 of one year (`year` is the year the table was issued for)."""

    year: int
    source: str
    limits: dict[str, float]
    cities: dict[str, CityQuota]

    def cap(self, city_id: str, award: str) -> int | None:
        """Places of an award level: the table's number, never above its share of the city's
        total (rounded up to a whole lesson, as the published table rounds)."""
        city = self.cities.get(city_id)
        if city is None:
            return None
        share = self.limits.get(award)
        places = city.places(award)
        return places if share is None else min(places, math.ceil(share * city.total - 1e-9))


@dataclass(frozen=True)
class LessonRules:
    quota_tables: dict[int, QuotaTable]
    deadlines: dict[int, date]
    weights: dict[str, Decimal]

    def quota_table(self, year: int) -> QuotaTable | None:
        """The year's own table, else the latest earlier one (a table stands until replaced)."""
        years = [y for y in self.quota_tables if y <= year]
        return self.quota_tables[max(years)] if years else None

    def city_deadline(self, year: int) -> date | None:
        return self.deadlines.get(year)

    def city_level_open(self, year: int, now: datetime) -> bool:
        """Whether a city may still select city-level lessons of `year` (deadline inclusive,
        in Asia/Shanghai). A year without a configured deadline is open."""
        deadline = self.deadlines.get(year)
        return deadline is None or now.astimezone(SHANGHAI).date() <= deadline

    def award_weight(self, award: str | None) -> Decimal:
        return self.weights.get(award, Decimal(0)) if award else Decimal(0)


def check_table(table: QuotaTable) -> None:
    """Refuse a table whose first or second prizes exceed their share of a city's quota."""
    for city in table.cities.values():
        for award, share in table.limits.items():
            if city.places(award) > math.ceil(share * city.total - 1e-9):
                raise ValueError(
                    f"quota table {table.year}: {city.name} {award} {city.places(award)} "
                    f"exceeds {share:.0%} of {city.total}"
                )


def _read(name: str) -> Any:
    return json.loads((DATA / name).read_text(encoding="utf-8"))


def _tables(raw: dict[str, Any]) -> dict[int, QuotaTable]:
    limits = {k: float(v) for k, v in raw.get("limits", {}).items()}
    out: dict[int, QuotaTable] = {}
    for year, body in raw["tables"].items():
        cities = {
            c["city_id"]: CityQuota(c["city_id"], c["name"], c["first"], c["second"], c["third"])
            for c in body["cities"]
        }
        for c in body["cities"]:
            if c.get("total") not in (None, cities[c["city_id"]].total):
                raise ValueError(f"quota table {year}: {c['name']} total does not add up")
        table = QuotaTable(int(year), raw.get("source", ""), limits, cities)
        check_table(table)
        out[int(year)] = table
    return out


@cache
def _shipped() -> tuple[dict[int, QuotaTable], dict[int, date], dict[str, Decimal]]:
    calendar = _read("calendar.json")
    deadlines = {int(y): date.fromisoformat(d) for y, d in calendar["city_level_deadlines"].items()}
    weights = {k: Decimal(str(v)) for k, v in _read("award_weights.json")["default"].items()}
    return _tables(_read("quotas.json")), deadlines, weights


def load_rules(deadline_overrides: dict[int, date] | None = None) -> LessonRules:
    tables, deadlines, weights = _shipped()
    return LessonRules(
        quota_tables=tables,
        deadlines={**deadlines, **(deadline_overrides or {})},
        weights=weights,
    )
