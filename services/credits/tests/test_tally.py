"""The arithmetic of a batch of entries (pure): hours above an annual cap are recorded but
not counted, a reversal takes back only what was counted, and a teacher-year moves its
school's, county's and city's totals once."""

from __future__ import annotations

import uuid
from decimal import Decimal
from typing import Any

from credits.ledger.tally import Batch, org_moves

ORG = ("440000", "441200", "441202", "441202-S1")


def batch(*entries: tuple[uuid.UUID, str, str]) -> Batch:
    """Entries (teacher, category, hours) of Zhaoqing in 2026, all inserted."""
    cols: dict[str, list[Any]] = {
        "id": [uuid.uuid4() for _ in entries],
        "teacher_id": [t for t, _, _ in entries],
        "year": [2026] * len(entries),
        "region": ["zhaoqing"] * len(entries),
        "category": [c for _, c, _ in entries],
        "hours": [Decimal(h) for _, _, h in entries],
        "province_id": [ORG[0]] * len(entries),
        "city_id": [ORG[1]] * len(entries),
        "county_id": [ORG[2]] * len(entries),
        "school_id": [ORG[3]] * len(entries),
    }
    return Batch.of(cols, None)


def test_hours_crossing_the_annual_cap_count_only_up_to_it() -> None:
    teacher = uuid.uuid4()
    b = batch((teacher, "public", "6"), (teacher, "public", "4"))
    b.apply_totals([(teacher, 2026, "public", Decimal("35"))])  # 25 before, cap 30
    change = b.years[(teacher, 2026)]
    assert change.recorded == Decimal("10") and change.counted == Decimal("5")


def test_a_reversal_above_the_cap_takes_back_only_what_was_counted() -> None:
    teacher = uuid.uuid4()
    b = batch((teacher, "public", "-10"))
    b.apply_totals([(teacher, 2026, "public", Decimal("25"))])  # 35 before, 30 counted
    assert b.years[(teacher, 2026)].counted == Decimal("-5")


def test_only_entries_actually_inserted_are_summed() -> None:
    teacher = uuid.uuid4()
    b = batch((teacher, "public", "6"), (teacher, "elective", "4"))
    cols_ids = list(b.sums)
    assert (teacher, 2026, "public") in cols_ids and (teacher, 2026, "elective") in cols_ids
    kept = Batch.of(
        {
            "id": [uuid.UUID(int=1), uuid.UUID(int=2)],
            "teacher_id": [teacher, teacher],
            "year": [2026, 2026],
            "region": ["zhaoqing"] * 2,
            "category": ["public", "elective"],
            "hours": [Decimal(6), Decimal(4)],
            "province_id": [ORG[0]] * 2,
            "city_id": [ORG[1]] * 2,
            "county_id": [ORG[2]] * 2,
            "school_id": [ORG[3]] * 2,
        },
        {uuid.UUID(int=2)},
    )
    assert list(kept.sums) == [(teacher, 2026, "elective")]


def test_a_new_complete_year_moves_every_level_once() -> None:
    teacher = uuid.uuid4()
    b = batch(
        (teacher, "public", "30"), (teacher, "professional", "42"), (teacher, "elective", "18")
    )
    b.apply_totals(
        [
            (teacher, 2026, "public", Decimal(30)),
            (teacher, 2026, "professional", Decimal(42)),
            (teacher, 2026, "elective", Decimal(18)),
        ]
    )
    moves = org_moves(b, [(teacher, 2026, True, Decimal(90), True)])
    assert moves.flips == []  # written complete on insert
    assert moves.totals == {
        (2026, "city", ORG[1]): [ORG[0], 1, 1, Decimal(90)],
        (2026, "county", ORG[2]): [ORG[1], 1, 1, Decimal(90)],
        (2026, "school", ORG[3]): [ORG[2], 1, 1, Decimal(90)],
    }


def test_a_year_that_reaches_or_falls_below_the_requirement_flips() -> None:
    up, down = uuid.uuid4(), uuid.uuid4()
    b = batch((up, "elective", "10"), (down, "public", "-10"))
    b.apply_totals([(up, 2026, "elective", Decimal(18)), (down, 2026, "public", Decimal(20))])
    moves = org_moves(
        b, [(up, 2026, False, Decimal(90), False), (down, 2026, False, Decimal(80), True)]
    )
    assert sorted(moves.flips, key=lambda f: f[2]) == [(down, 2026, False), (up, 2026, True)]
    city = moves.totals[(2026, "city", ORG[1])]
    assert city[1:] == [0, 0, Decimal(0)]  # one in, one out; +10 and -10 counted hours
