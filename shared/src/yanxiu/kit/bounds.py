"""Bounds (取值范围) of what requests carry: years, days, moments, ids, cursors. Every number, date
and string a route accepts has a floor and a ceiling, so a hostile value is a 422 at the door
rather than an overflow later: PostgreSQL's int4/int8, asyncpg's years 1–9999, `date +
timedelta` past 9999-12-31. Use them in request models and route parameters alike:
`year: Year`, `as_of: Day | None = None`, `cursor: Cursor | None = None`.

Dates carry their range in OpenAPI as `formatMinimum`/`formatMaximum` (the JSON Schema
vocabulary of ajv-formats), so a test can tell a bounded date from an unbounded one."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, date, datetime
from typing import Annotated, Any

from pydantic import AfterValidator, AwareDatetime, Field

from yanxiu.contracts.envelope import OrgPath

YEAR_MIN, YEAR_MAX = 2000, 2100
FIRST_DAY, LAST_DAY = date(YEAR_MIN, 1, 1), date(YEAR_MAX, 12, 31)
# Org ids are division codes ("370102") or a school's code under its county ("370102-S001").
ORG_ID_MAX = 40
CURSOR_MAX = 300

_DAY_RANGE: dict[str, Any] = {
    "formatMinimum": FIRST_DAY.isoformat(),
    "formatMaximum": LAST_DAY.isoformat(),
}


def _day_in_range(value: date) -> date:
    if not FIRST_DAY <= value <= LAST_DAY:
        raise ValueError(
            f"日期须在 {FIRST_DAY} 至 {LAST_DAY} 之间"
            f" (dates lie between {FIRST_DAY} and {LAST_DAY})"
        )
    return value


def _moment_check(first: date, last: date) -> Callable[[datetime], datetime]:
    def check(value: datetime) -> datetime:
        # Judged in UTC when the moment names its zone, so that a +14:00 offset on the first
        # day cannot step outside the range once stored; the local day is checked first, as
        # converting year 1 or 9999 to UTC may overflow.
        inside = first <= value.date() <= last
        if inside and value.tzinfo is not None:
            inside = first <= value.astimezone(UTC).date() <= last
        if not inside:
            raise ValueError(
                f"时间须在 {first} 至 {last} 之间 (times lie between {first} and {last})"
            )
        return value

    return check


def _moment_range(first: date, last: date) -> dict[str, Any]:
    return {"formatMinimum": f"{first}T00:00:00Z", "formatMaximum": f"{last}T23:59:59Z"}


Year = Annotated[int, Field(ge=YEAR_MIN, le=YEAR_MAX)]
Day = Annotated[date, AfterValidator(_day_in_range), Field(json_schema_extra=_DAY_RANGE)]
Moment = Annotated[
    datetime,
    AfterValidator(_moment_check(FIRST_DAY, LAST_DAY)),
    Field(json_schema_extra=_moment_range(FIRST_DAY, LAST_DAY)),
]
AwareMoment = Annotated[
    AwareDatetime,
    AfterValidator(_moment_check(FIRST_DAY, LAST_DAY)),
    Field(json_schema_extra=_moment_range(FIRST_DAY, LAST_DAY)),
]
# A device's own clock, kept but never judged: a phone reset to 1970 must not lose the
# heartbeat it sends, so only what PostgreSQL and Python could not hold is refused.
DEVICE_FIRST_DAY = date(1970, 1, 1)
DeviceClock = Annotated[
    datetime,
    AfterValidator(_moment_check(DEVICE_FIRST_DAY, LAST_DAY)),
    Field(json_schema_extra=_moment_range(DEVICE_FIRST_DAY, LAST_DAY)),
]
OrgId = Annotated[str, Field(min_length=1, max_length=ORG_ID_MAX)]
Cursor = Annotated[str, Field(max_length=CURSOR_MAX, description="next_cursor of the last page")]


class OrgPathIn(OrgPath):
    """An org path as a request carries it: the event contract's OrgPath (so it goes wherever
    one is expected) with each id bounded."""

    province_id: OrgId
    city_id: OrgId
    county_id: OrgId
    school_id: OrgId


def in_range(value: date | datetime) -> bool:
    """Whether a day or moment lies in 2000–2100, for values parsed by hand (cursors)."""
    try:
        if isinstance(value, datetime):
            _moment_check(FIRST_DAY, LAST_DAY)(value)
        else:
            _day_in_range(value)
    except ValueError:
        return False
    return True
