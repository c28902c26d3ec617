"""yanxiu.kit.bounds and the cursors of yanxiu.kit.pagination: values PostgreSQL or Python could
not hold are refused as validation errors, before anything reaches the database."""

from __future__ import annotations

import base64
import json
from datetime import date, datetime

import pytest
from pydantic import TypeAdapter, ValidationError

from yanxiu.kit.bounds import AwareMoment, Day, DeviceClock, Moment, OrgPathIn, Year, in_range
from yanxiu.kit.pagination import InvalidCursor, decode_cursor, decode_int_cursor


def cursor_of(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


@pytest.mark.parametrize("year", [1999, 2101, 2**31, -1])
def test_a_year_outside_2000_to_2100_is_refused(year: int) -> None:
    with pytest.raises(ValidationError):
        TypeAdapter(Year).validate_python(year)


@pytest.mark.parametrize("day", ["0001-01-01", "9999-12-31", "1999-12-31", "2101-01-01"])
def test_a_day_outside_2000_to_2100_is_refused(day: str) -> None:
    with pytest.raises(ValidationError):
        TypeAdapter(Day).validate_python(day)
    assert TypeAdapter(Day).validate_python("2024-02-29") == date(2024, 2, 29)


@pytest.mark.parametrize(
    "moment",
    [
        "0001-01-01T00:00:00+14:00",  # UTC would be year 0: Python overflows converting it
        "9999-12-31T23:59:59-14:00",
        "2000-01-01T00:00:00+08:00",  # 1999 in UTC
        "2101-01-01T00:00:00Z",
    ],
)
def test_a_moment_outside_2000_to_2100_is_refused_without_overflowing(moment: str) -> None:
    for kind in (Moment, AwareMoment):
        with pytest.raises(ValidationError):
            TypeAdapter(kind).validate_python(moment)


def test_a_device_clock_may_be_years_wrong_but_not_impossible() -> None:
    assert TypeAdapter(DeviceClock).validate_python("1970-01-01T00:00:05Z").year == 1970
    with pytest.raises(ValidationError):
        TypeAdapter(Moment).validate_python("1970-01-01T00:00:05Z")
    for impossible in ("0001-01-01T00:00:00+14:00", "9999-12-31T23:59:59-14:00"):
        with pytest.raises(ValidationError):
            TypeAdapter(DeviceClock).validate_python(impossible)


def test_in_range_judges_hand_parsed_values() -> None:
    assert in_range(datetime.fromisoformat("2024-05-01T08:00:00+08:00"))
    assert not in_range(datetime.fromisoformat("0001-01-01T00:00:00+14:00"))
    assert not in_range(date(9999, 12, 31))


def test_a_requests_org_path_is_an_org_path_with_bounded_ids() -> None:
    with pytest.raises(ValidationError):
        OrgPathIn(province_id="3" * 41, city_id="c", county_id="d", school_id="s")
    assert OrgPathIn(province_id="a", city_id="b", county_id="c", school_id="d").as_list() == [
        "a",
        "b",
        "c",
        "d",
    ]


@pytest.mark.parametrize(
    "raw", [b"[" * 5000, b'{"a": "\\u0000"}', b'{"a": 1.5}', b'{"a": true}', b"\xff"]
)
def test_a_forged_cursor_is_an_invalid_cursor(raw: bytes) -> None:
    with pytest.raises(InvalidCursor):
        decode_cursor(cursor_of(raw))


@pytest.mark.parametrize("after", [2**63, 2**70, -1])
def test_an_int_cursor_past_bigint_is_an_invalid_cursor(after: int) -> None:
    with pytest.raises(InvalidCursor):
        decode_int_cursor(cursor_of(json.dumps({"a": after}).encode()))
    assert decode_int_cursor(cursor_of(json.dumps({"a": 2**63 - 1}).encode())) == 2**63 - 1
