"""What a fact contributes to the dashboards (pure logic): every level above the school, only
while registered, each step on the day it was reached, and a change moves the numbers by the
difference only."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

from insights.feed import tally

P = uuid.uuid4()
AT = datetime(2026, 11, 19, 17, 30, tzinfo=UTC)  # 01:30 on the 20th in Shanghai


def standing(**over: Any) -> dict[str, Any]:
    row: dict[str, Any] = {
        "project_id": P,
        "province_id": "370000",
        "city_id": "370100",
        "county_id": "370102",
        "school_id": "370102-S1",
        "stage": "primary",
        "subject": "语文",
        "is_rural": True,
        "registered_at": AT,
        "plan_status": None,
        "plan_at": None,
        "started_at": None,
        "met_at": None,
        "hours": {},
        "reviews_assigned": 0,
        "reviews_done": 0,
    }
    row.update(over)
    return row


def cells(c: tally.Contribution, metric: str) -> dict[tuple[str, int, str], Decimal]:
    return {
        (org, level, parent): v
        for (_, org, level, parent, m, *_), v in c.cells.items()
        if m == metric
    }


def test_a_registered_teacher_counts_at_the_school_and_every_org_above_it() -> None:
    c = tally.standing(standing())
    assert cells(c, tally.REGISTERED) == {
        ("370000", 1, ""): 1,
        ("370100", 2, "370000"): 1,
        ("370102", 3, "370100"): 1,
        ("370102-S1", 4, "370102"): 1,
    }
    key = next(iter(c.cells))
    assert key[5:] == ("primary", "语文", "r")


def test_each_step_counts_on_its_day_in_shanghai() -> None:
    c = tally.standing(standing(met_at=AT, started_at=AT))
    assert {d for (_, org, m, d) in c.days if org == "370000"} == {date(2026, 11, 20)}
    assert {m for (_, _, m, _) in c.days} == {
        tally.REGISTERED,
        tally.STARTED,
        tally.REQUIREMENTS_MET,
    }


def test_nothing_counts_before_the_registration_or_after_a_withdrawal() -> None:
    assert tally.standing(standing(registered_at=None, met_at=AT)).cells == {}
    assert tally.standing(None).cells == {}


def test_a_change_moves_the_numbers_by_the_difference_only() -> None:
    before = standing(plan_status="active", plan_at=AT)
    after = standing(plan_status="active", plan_at=AT, met_at=AT, hours={"subject_required": "4.5"})
    delta = tally.Delta()
    delta.add(tally.standing(before), tally.standing(after))
    metrics = {k[4] for k, _ in delta.nonzero_cells()}
    assert metrics == {tally.REQUIREMENTS_MET, tally.HOURS + "subject_required"}
    hours = [v for k, v in delta.nonzero_cells() if k[4].startswith(tally.HOURS)]
    assert hours == [Decimal("4.5")] * 4


def test_a_transfer_takes_every_number_from_the_old_school_to_the_new() -> None:
    old = standing(met_at=AT)
    new = standing(met_at=AT, county_id="370103", school_id="370103-S1")
    delta = tally.Delta()
    delta.add(tally.standing(old), tally.standing(new))
    moved = {(k[1], k[4]): v for k, v in delta.nonzero_cells()}
    assert moved[("370102", tally.REGISTERED)] == -1
    assert moved[("370103-S1", tally.REQUIREMENTS_MET)] == 1
    assert ("370100", tally.REGISTERED) not in moved  # the city did not change
    assert ("370000", tally.REGISTERED) not in moved


def test_hours_are_shown_plainly() -> None:
    assert str(tally.plain(Decimal("12.50"))) == "12.5"
    assert str(tally.plain(Decimal("30.00"))) == "30"


def test_a_drill_down_line_moves_by_the_same_difference_as_its_metrics() -> None:
    old = standing(met_at=AT)
    new = standing(met_at=AT, county_id="370103", school_id="370103-S1")
    delta = tally.Delta()
    delta.add(tally.standing(old), tally.standing(new))
    lines = {(scope, org): v for (scope, org, _, _), v in delta.drilldown()}
    assert lines[(f"p:{P}", "370102")]["registered"] == -1
    assert lines[(f"p:{P}", "370102")]["requirements_met"] == -1
    assert lines[(f"p:{P}", "370103-S1")]["registered"] == 1
    assert (f"p:{P}", "370100") not in lines  # the city did not change
    assert lines[(f"p:{P}", "370103")]["plan_active"] == 0  # every column, 0 where unchanged


def test_offline_records_waiting_at_either_step_share_one_drill_down_column() -> None:
    delta = tally.Delta()
    waiting = {
        "year": 2026,
        "province_id": "370000",
        "city_id": "370100",
        "county_id": "370102",
        "school_id": "370102-S1",
    }
    delta.add(tally.Contribution(), tally.offline_record({**waiting, "status": "submitted"}))
    delta.add(tally.Contribution(), tally.offline_record({**waiting, "status": "county_passed"}))
    delta.add(tally.Contribution(), tally.offline_record({**waiting, "status": "approved"}))
    lines = {org: v for (_, org, _, _), v in delta.drilldown()}
    assert lines["370102-S1"]["offline_waiting"] == 2
    assert set(lines) == {"370000", "370100", "370102", "370102-S1"}
