"""What each fact adds to the dashboards' numbers (pure: no I/O).

A fact's *contribution* is the set of tally cells it counts in, with how much: a registered
teacher adds 1 to `registered` at their school, county, city and province, under their stage,
subject and rural/urban; 1 more to `started` once they have started; their hours to
`hours:<category>`; and one count on the day each step was reached, for the trend. Handlers
move the tallies by `after - before` of the facts they change, which is what makes the numbers
exact under redelivery, reordering and rebuilds."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

SHANGHAI = ZoneInfo("Asia/Shanghai")

# Project funnel (scope p:<project>), in funnel order.
REGISTERED = "registered"
PLAN_ACTIVE = "plan_active"
STARTED = "started"
REQUIREMENTS_MET = "requirements_met"
REVIEWS_ASSIGNED = "reviews_assigned"
REVIEWS_DONE = "reviews_done"
HOURS = "hours:"  # + category
# The year's (scope y:<year>).
CREDITS_REGISTERED = "credits_registered"
YEAR_COMPLETE = "year_complete"
CERTIFICATES_ISSUED = "certificates_issued"
CREDIT_HOURS = "credit_hours"
OFFLINE = "offline:"  # + record status
LESSONS_SUBMITTED = "lessons_submitted"
LESSONS_AT = "lessons_at:"  # + level
LESSONS_AWARDED = "lessons_awarded"

PROJECT_FUNNEL = (REGISTERED, PLAN_ACTIVE, STARTED, REQUIREMENTS_MET)
YEAR_FUNNEL = (CREDITS_REGISTERED, YEAR_COMPLETE, CERTIFICATES_ISSUED)

# The drill-down table's columns (下级单位完成情况), each the sum of these metrics: kept one
# column each in `drilldown_rows`, so a county's 100 schools are 100 rows to read, not ~900
# to pivot. Metric names differ between the project's scope and the year's.
DRILLDOWN_COLUMNS: dict[str, tuple[str, ...]] = {
    "registered": (REGISTERED,),
    "plan_active": (PLAN_ACTIVE,),
    "started": (STARTED,),
    "requirements_met": (REQUIREMENTS_MET,),
    "reviews_assigned": (REVIEWS_ASSIGNED,),
    "reviews_done": (REVIEWS_DONE,),
    "credits_registered": (CREDITS_REGISTERED,),
    "certificates_issued": (CERTIFICATES_ISSUED,),
    "offline_waiting": (OFFLINE + "submitted", OFFLINE + "county_passed"),
}
_COLUMN_OF = {m: column for column, metrics in DRILLDOWN_COLUMNS.items() for m in metrics}

# (scope, org_id, level, parent_id, metric, stage, subject, area)
CellKey = tuple[str, str, int, str, str, str, str, str]
# (scope, org_id, metric, day)
DayKey = tuple[str, str, str, date]


def project_scope(project_id: object) -> str:
    return f"p:{project_id}"


def year_scope(year: int) -> str:
    return f"y:{year}"


def shanghai_day(at: datetime) -> date:
    return at.astimezone(SHANGHAI).date()


def plain(value: Decimal) -> Decimal:
    """12.50 → 12.5, 30.00 → 30 (never 3E+1)."""
    return value.quantize(Decimal(1)) if value == value.to_integral() else value.normalize()


def places(row: Mapping[str, Any]) -> list[tuple[str, int, str]]:
    """(org id, level, parent id) of the four levels above and at the row's school."""
    path = (row["province_id"], row["city_id"], row["county_id"], row["school_id"])
    return [(org, level + 1, path[level - 1] if level else "") for level, org in enumerate(path)]


def area_of(is_rural: bool | None) -> str:
    return "" if is_rural is None else ("r" if is_rural else "u")


@dataclass
class Contribution:
    cells: defaultdict[CellKey, Decimal] = field(default_factory=lambda: defaultdict(Decimal))
    days: defaultdict[DayKey, Decimal] = field(default_factory=lambda: defaultdict(Decimal))


@dataclass
class _Builder:
    scope: str
    row: Mapping[str, Any]
    stage: str = ""
    subject: str = ""
    area: str = ""
    out: Contribution = field(default_factory=Contribution)

    def count(self, metric: str, value: Decimal | int = 1, at: datetime | None = None) -> None:
        if not value:
            return
        amount = Decimal(value)
        for org, level, parent in places(self.row):
            key = (self.scope, org, level, parent, metric, self.stage, self.subject, self.area)
            self.out.cells[key] += amount
            if at is not None:
                self.out.days[(self.scope, org, metric, shanghai_day(at))] += amount


def standing(row: Mapping[str, Any] | None) -> Contribution:
    """A teacher in a project counts only while registered."""
    if row is None or row["registered_at"] is None:
        return Contribution()
    b = _Builder(
        project_scope(row["project_id"]),
        row,
        stage=row["stage"] or "",
        subject=row["subject"] or "",
        area=area_of(row["is_rural"]),
    )
    b.count(REGISTERED, at=row["registered_at"])
    if row["plan_status"] == "active":
        b.count(PLAN_ACTIVE, at=row["plan_at"] or row["registered_at"])
    if row["started_at"] is not None:
        b.count(STARTED, at=row["started_at"])
    if row["met_at"] is not None:
        b.count(REQUIREMENTS_MET, at=row["met_at"])
    for category, hours in sorted((row["hours"] or {}).items()):
        b.count(HOURS + category, Decimal(hours))
    b.count(REVIEWS_DONE, row["reviews_done"] or 0)
    return b.out


def review_load(row: Mapping[str, Any] | None) -> Contribution:
    """A school's assignments count at the school and above (not split by stage or subject)."""
    if row is None:
        return Contribution()
    b = _Builder(project_scope(row["project_id"]), row)
    b.count(REVIEWS_ASSIGNED, row["assigned"])
    return b.out


def teacher_year(row: Mapping[str, Any] | None) -> Contribution:
    if row is None:
        return Contribution()
    b = _Builder(year_scope(row["year"]), row)
    if row["credited_at"] is not None:
        b.count(CREDITS_REGISTERED, at=row["credited_at"])
        b.count(CREDIT_HOURS, Decimal(row["total_hours"]))
    if row["complete_at"] is not None:
        b.count(YEAR_COMPLETE, at=row["complete_at"])
    if row["certificate_id"] is not None:
        b.count(CERTIFICATES_ISSUED, at=row["certified_at"])
    return b.out


def offline_record(row: Mapping[str, Any] | None) -> Contribution:
    if row is None:
        return Contribution()
    b = _Builder(year_scope(row["year"]), row)
    b.count(OFFLINE + row["status"])
    return b.out


def lesson(row: Mapping[str, Any] | None) -> Contribution:
    if row is None:
        return Contribution()
    b = _Builder(year_scope(row["year"]), row, stage=row["stage"], subject=row["subject"])
    if row["submitted_at"] is not None:
        b.count(LESSONS_SUBMITTED, at=row["submitted_at"])
    for level in sorted(row["levels"] or {}):
        b.count(LESSONS_AT + level)
    if row["award"]:
        b.count(LESSONS_AWARDED)
    return b.out


@dataclass
class Delta:
    """The tallies' change, summed over a batch of fact changes."""

    cells: defaultdict[CellKey, Decimal] = field(default_factory=lambda: defaultdict(Decimal))
    days: defaultdict[DayKey, Decimal] = field(default_factory=lambda: defaultdict(Decimal))

    def add(self, before: Contribution, after: Contribution) -> None:
        for key, value in after.cells.items():
            self.cells[key] += value
        for key, value in before.cells.items():
            self.cells[key] -= value
        for dkey, value in after.days.items():
            self.days[dkey] += value
        for dkey, value in before.days.items():
            self.days[dkey] -= value

    def nonzero_cells(self) -> list[tuple[CellKey, Decimal]]:
        """Sorted by key: concurrent writers take the rows' locks in one order."""
        return sorted((k, v) for k, v in self.cells.items() if v)

    def rolled_up(self) -> list[tuple[tuple[str, str, str, int, str], Decimal]]:
        """The cells summed over stage, subject and area: ((scope, org, metric, level, parent),
        value), sorted."""
        out: defaultdict[tuple[str, str, str, int, str], Decimal] = defaultdict(Decimal)
        for (scope, org, level, parent, metric, *_), value in self.cells.items():
            out[(scope, org, metric, level, parent)] += value
        return sorted((k, v) for k, v in out.items() if v)

    def nonzero_days(self) -> list[tuple[DayKey, Decimal]]:
        return sorted((k, v) for k, v in self.days.items() if v)

    def drilldown(self) -> list[tuple[tuple[str, str, int, str], dict[str, Decimal]]]:
        """The cells as drill-down lines: ((scope, org, level, parent), {column: change}) for
        every line with a column that changed, sorted (one lock order); every column is present,
        0 where it did not change."""
        out: dict[tuple[str, str, int, str], dict[str, Decimal]] = {}
        for (scope, org, level, parent, metric, *_), value in self.cells.items():
            column = _COLUMN_OF.get(metric)
            if column is None or not value:
                continue
            line = out.setdefault(
                (scope, org, level, parent), dict.fromkeys(DRILLDOWN_COLUMNS, Decimal(0))
            )
            line[column] += value
        return sorted((k, v) for k, v in out.items() if any(v.values()))


def total(contributions: Sequence[Contribution]) -> Delta:
    """The tallies a set of facts adds up to (what a recount compares with)."""
    delta = Delta()
    for c in contributions:
        delta.add(Contribution(), c)
    return delta
