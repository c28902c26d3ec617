"""A region's categories and caps decide what counts (肇庆: 公需 30 + 专业 42 + 个人选修 18 =
90 h a year): only the region's own categories count toward the year's requirement, each up to
its cap; hours of any other category are recorded and shown, never counted, neither in the
balance nor in the teacher-year and the org totals; a balance shows every hour figure in one
format (one decimal, as the ledger keeps hours)."""

from __future__ import annotations

import re
import uuid
from collections.abc import Callable
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import httpx

from credits.ledger import service as ledger
from credits.ledger.models import Teacher
from credits.ledger.tally import Batch
from yanxiu.contracts.envelope import OrgPath
from yanxiu.kit.app import Runtime

ZQ = OrgPath(province_id="440000", city_id="441200", county_id="441202", school_id="441202-S1")
SD = OrgPath(province_id="370000", city_id="370100", county_id="370102", school_id="370102-S1")
NOW = datetime.now(UTC)
YEAR = ledger.shanghai_day(NOW).year
ONE_DECIMAL = re.compile(r"^-?\d+\.\d$")
Auth = Callable[..., dict[str, str]]


def runtime(client: httpx.AsyncClient) -> Runtime:
    rt: Runtime = client.app.state.runtime  # type: ignore[attr-defined]
    return rt


async def teacher_with(client: httpx.AsyncClient, place: OrgPath, **hours: int) -> uuid.UUID:
    """A teacher known at `place` with these hours (by category) of this year."""
    teacher = uuid.uuid4()
    async with runtime(client).session_factory() as session, session.begin():
        session.add(Teacher(teacher_id=teacher, name="陈静", **place.model_dump()))
        await ledger.post_entries(
            session,
            [
                ledger.EntryIn(
                    teacher_id=teacher,
                    source_kind="bonus",
                    source_id=uuid.uuid4().hex,
                    category=category,
                    hours=Decimal(h),
                    occurred_at=NOW,
                    org=place,
                )
                for category, h in hours.items()
            ],
        )
    return teacher


async def balance(
    client: httpx.AsyncClient, auth: Auth, teacher: uuid.UUID, place: OrgPath
) -> dict[str, Any]:
    me = auth("teacher", place.as_list(), teacher_id=str(teacher))
    r = await client.get(f"/ledger/{teacher}/balance", params={"year": YEAR}, headers=me)
    assert r.status_code == 200, r.text
    body: dict[str, Any] = r.json()
    return body


async def county(client: httpx.AsyncClient, auth: Auth, place: OrgPath) -> dict[str, Any]:
    r = await client.get(
        "/reports/totals",
        params={"level": "county", "parent": place.city_id, "year": YEAR},
        headers=auth("city_admin", place.as_list()[:2]),
    )
    assert r.status_code == 200, r.text
    row: dict[str, Any] = next(x for x in r.json()["rows"] if x["org_id"] == place.county_id)
    return row


async def test_only_the_regions_own_categories_count_toward_the_years_requirement(
    client: httpx.AsyncClient, auth: Auth
) -> None:
    # "reading" is no category of Zhaoqing, and has no cap there: it used to count in full.
    teacher = await teacher_with(client, ZQ, public=30, professional=42, reading=18)
    async with runtime(client).session_factory() as session:
        status = await ledger.year_status(session, teacher_id=teacher, year=YEAR)
    assert status.counted_total == Decimal(72) and not status.complete
    assert "reading" not in status.counted_by_category
    assert status.recorded_by_category["reading"] == Decimal(18)
    assert status.above_caps == {}

    body = await balance(client, auth, teacher, ZQ)
    assert (body["counted_total"], body["complete"]) == ("72.0", False)
    reading = next(c for c in body["categories"] if c["category"] == "reading")
    assert (reading["recorded_hours"], reading["counted_hours"]) == ("18.0", "0.0")
    assert reading["annual_cap"] is None and reading["above_cap_hours"] == "0.0"
    assert "不计入" in reading["note"] and "not counted" in reading["note"]
    # The teacher-year and the org totals count the same.
    row = await county(client, auth, ZQ)
    assert (row["complete"], row["counted_hours"]) == (0, "72.0")

    async with runtime(client).session_factory() as session, session.begin():
        await ledger.post_entries(
            session,
            [
                ledger.EntryIn(
                    teacher_id=teacher,
                    source_kind="bonus",
                    source_id=uuid.uuid4().hex,
                    category="elective",
                    hours=Decimal(18),
                    occurred_at=NOW,
                    org=ZQ,
                )
            ],
        )
    assert (await balance(client, auth, teacher, ZQ))["complete"] is True
    row = await county(client, auth, ZQ)
    assert (row["complete"], row["counted_hours"]) == (1, "90.0")


async def test_a_region_category_without_a_cap_counts_in_full(
    client: httpx.AsyncClient, auth: Auth
) -> None:
    # Shandong's categories have no cap: its own count in full (24 required).
    teacher = await teacher_with(client, SD, project=24, offline=10)
    body = await balance(client, auth, teacher, SD)
    assert (body["counted_total"], body["required_total"], body["complete"]) == (
        "34.0",
        "24.0",
        True,
    )


async def test_a_balance_shows_every_hour_figure_in_one_format(
    client: httpx.AsyncClient, auth: Auth
) -> None:
    teacher = await teacher_with(client, ZQ, elective=20)  # capped at 18
    body = await balance(client, auth, teacher, ZQ)
    (elective,) = body["categories"]
    assert (elective["recorded_hours"], elective["counted_hours"]) == ("20.0", "18.0")
    assert (elective["annual_cap"], elective["above_cap_hours"]) == ("18.0", "2.0")
    figures = [
        body[k]
        for k in ("counted_total", "required_total", "cycle_counted_total", "cycle_required")
    ] + [elective[k] for k in ("recorded_hours", "counted_hours", "annual_cap", "above_cap_hours")]
    assert all(ONE_DECIMAL.match(f) for f in figures), figures
    assert (body["counted_total"], body["required_total"]) == ("18.0", "90.0")
    assert (body["cycle_counted_total"], body["cycle_required"]) == ("18.0", "450.0")


def test_a_batch_counts_nothing_of_a_category_the_region_does_not_have() -> None:
    teacher = uuid.uuid4()
    org = ZQ.as_list()
    batch = Batch.of(
        {
            "id": [uuid.uuid4(), uuid.uuid4()],
            "teacher_id": [teacher, teacher],
            "year": [2026, 2026],
            "region": ["zhaoqing", "zhaoqing"],
            "category": ["reading", "public"],
            "hours": [Decimal(40), Decimal(10)],
            "province_id": [org[0]] * 2,
            "city_id": [org[1]] * 2,
            "county_id": [org[2]] * 2,
            "school_id": [org[3]] * 2,
        },
        None,
    )
    batch.apply_totals(
        [(teacher, 2026, "reading", Decimal(40)), (teacher, 2026, "public", Decimal(10))]
    )
    change = batch.years[(teacher, 2026)]
    assert (change.recorded, change.counted) == (Decimal(50), Decimal(10))
