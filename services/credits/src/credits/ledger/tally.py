"""How a batch of new ledger entries moves the maintained sums, as arithmetic: the category
totals it adds to, each teacher-year's recorded and counted hours (capped, and only in the
region's own categories), whether a year becomes complete, and the school's, county's and
city's totals. The repository applies the
results; nothing here touches the database."""

from __future__ import annotations

import functools
import uuid
from collections.abc import Container, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from credits.ledger.regions import regions

YearKey = tuple[uuid.UUID, int]  # (teacher, year)
ZERO = Decimal(0)


def counted(hours: Decimal, cap: Decimal | None) -> Decimal:
    """Hours that count in a category: up to its annual cap, never below zero."""
    return max(min(hours, cap) if cap is not None else hours, ZERO)


@functools.cache
def _cap(region: str, category: str) -> Decimal | None:
    return regions()[region].cap(category)


@functools.cache
def _counts(region: str, category: str) -> bool:
    return regions()[region].counts(category)


@functools.cache
def _required(region: str) -> Decimal:
    return regions()[region].annual_required


@dataclass
class YearChange:
    region: str
    org: tuple[str, str, str, str]  # province, city, county, school
    recorded: Decimal = ZERO
    counted: Decimal = ZERO


@dataclass
class Batch:
    """The inserted entries summed per (teacher, year, category), and each teacher-year's
    region and place (the latest entry's)."""

    sums: dict[tuple[uuid.UUID, int, str], Decimal] = field(default_factory=dict)
    years: dict[YearKey, YearChange] = field(default_factory=dict)

    @classmethod
    def of(cls, cols: Mapping[str, Sequence[Any]], only: Container[uuid.UUID] | None) -> Batch:
        """From the entries' columns; `only`: the ids actually inserted, if not all."""
        batch = cls()
        sums, years = batch.sums, batch.years
        for entry_id, teacher, year, region, category, hours, *org in zip(
            cols["id"],
            cols["teacher_id"],
            cols["year"],
            cols["region"],
            cols["category"],
            cols["hours"],
            cols["province_id"],
            cols["city_id"],
            cols["county_id"],
            cols["school_id"],
            strict=True,
        ):
            if only is not None and entry_id not in only:
                continue
            key = (teacher, year, category)
            sums[key] = sums.get(key, ZERO) + hours
            change = years.get((teacher, year))
            if change is None:
                years[(teacher, year)] = YearChange(region, (org[0], org[1], org[2], org[3]))
            else:
                change.region, change.org = region, (org[0], org[1], org[2], org[3])
        return batch

    def apply_totals(self, totals: Iterable[Any]) -> None:
        """Given each category's new total (teacher_id, year, category, hours), add the
        recorded hours and the change in counted hours to the teacher-years."""
        for teacher, year, category, hours in totals:
            added = self.sums[(teacher, year, category)]
            change = self.years[(teacher, year)]
            change.recorded += added
            if not _counts(change.region, category):
                continue  # not one of the region's categories: recorded, never counted
            cap = _cap(change.region, category)
            change.counted += counted(hours, cap) - counted(hours - added, cap)

    def complete(self, key: YearKey, counted_hours: Decimal) -> bool:
        """完成年度学时: counted hours reach the region's yearly requirement."""
        return counted_hours >= _required(self.years[key].region)

    def totals_columns(self) -> dict[str, list[Any]]:
        """The category sums to add, as the columns of one statement."""
        keys = list(self.sums)
        return {
            "teacher_id": [k[0] for k in keys],
            "year": [k[1] for k in keys],
            "category": [k[2] for k in keys],
            "region": [self.years[(k[0], k[1])].region for k in keys],
            "hours": list(self.sums.values()),
        }

    def year_columns(self) -> dict[str, list[Any]]:
        """The teacher-years' additions (after `apply_totals`), as the columns of one
        statement; `complete` is what a new teacher-year is written with."""
        keys, changes = list(self.years), list(self.years.values())
        return {
            "teacher_id": [k[0] for k in keys],
            "year": [k[1] for k in keys],
            "region": [c.region for c in changes],
            "province_id": [c.org[0] for c in changes],
            "city_id": [c.org[1] for c in changes],
            "county_id": [c.org[2] for c in changes],
            "school_id": [c.org[3] for c in changes],
            "recorded": [c.recorded for c in changes],
            "counted": [c.counted for c in changes],
            "complete": [self.complete(k, c.counted) for k, c in zip(keys, changes, strict=True)],
        }


@dataclass(frozen=True)
class Tallied:
    """A teacher-year as it stands after the batch (what `credits.year_tallied` says)."""

    teacher_id: uuid.UUID
    year: int
    counted: Decimal
    complete: bool
    org: tuple[str, ...]  # province, city, county, school: the year's place


@dataclass
class OrgMoves:
    """Changes to org totals, keyed (year, level, org) → [parent, with credit, complete,
    counted hours], the teacher-years whose completeness flips, and those the batch changed
    (new, or counted hours or completeness moved: not a batch only above caps)."""

    totals: dict[tuple[int, str, str], list[Any]] = field(default_factory=dict)
    flips: list[tuple[uuid.UUID, int, bool]] = field(default_factory=list)
    tallied: list[Tallied] = field(default_factory=list)

    def add(
        self, year: int, org: Sequence[str], with_credit: int, complete: int, hours: Decimal
    ) -> None:
        province, city, county, school = org
        for level, org_id, parent in (
            ("city", city, province),
            ("county", county, city),
            ("school", school, county),
        ):
            row = self.totals.setdefault((year, level, org_id), [parent, 0, 0, ZERO])
            row[1] += with_credit
            row[2] += complete
            row[3] += hours


def org_moves(batch: Batch, years: Iterable[Any]) -> OrgMoves:
    """From each teacher-year after the batch (teacher_id, year, inserted, counted_hours,
    complete: the flag before this batch, or as inserted; then, if given, the year's place
    province, city, county, school), what moves in its orgs: those of the year's place, else
    of the batch's."""
    moves = OrgMoves()
    for teacher, year, inserted, counted_hours, complete, *place in years:
        key = (teacher, year)
        change = batch.years[key]
        org = tuple(place) if place else change.org
        now_complete = batch.complete(key, counted_hours)
        was_complete = False if inserted else complete
        if not inserted and now_complete != complete:
            moves.flips.append((teacher, year, now_complete))
        if inserted or change.counted or now_complete != complete:
            moves.tallied.append(Tallied(teacher, year, counted_hours, now_complete, org))
        moves.add(year, org, 1 if inserted else 0, now_complete - was_complete, change.counted)
    return moves
