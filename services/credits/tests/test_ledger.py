"""学分台账: exactly-once entries, caps kept but not counted, reversals, year close, balances,
events from learning and lessons through the real broker, and scoped reports."""

from __future__ import annotations

import io
import uuid
from collections.abc import Callable
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

import httpx
import pytest
from openpyxl import load_workbook  # type: ignore[import-untyped]
from sqlalchemy import func, select, text
from sqlalchemy.exc import DBAPIError

from credits.ledger import service as ledger
from credits.ledger.consumers import on_teacher_transferred
from credits.ledger.errors import YearClosed
from credits.ledger.models import LedgerEntry, Teacher
from yanxiu.contracts.enrollment import TeacherTransferred
from yanxiu.contracts.envelope import Event, OrgPath
from yanxiu.contracts.learning import CourseCompleted, RequirementsMet, RequirementsUnmet
from yanxiu.kit.app import Runtime
from yanxiu.testing import eventually

ZQ = OrgPath(province_id="440000", city_id="441200", county_id="441202", school_id="441202-S1")
ZQ_OTHER_COUNTY = OrgPath(
    province_id="440000", city_id="441200", county_id="441203", school_id="441203-S1"
)
SD = OrgPath(province_id="370000", city_id="370100", county_id="370102", school_id="370102-S1")
NOW = datetime.now(UTC)
YEAR = ledger.shanghai_day(NOW).year


def runtime(client: httpx.AsyncClient) -> Runtime:
    rt: Runtime = client.app.state.runtime  # type: ignore[attr-defined]
    return rt


async def known_teacher(client: httpx.AsyncClient, org: OrgPath, name: str = "王芳") -> uuid.UUID:
    teacher = uuid.uuid4()
    async with runtime(client).session_factory() as session, session.begin():
        session.add(Teacher(teacher_id=teacher, name=name, **org.model_dump()))
    return teacher


def entry(
    teacher: uuid.UUID, category: str, hours: str, *, org: OrgPath = ZQ, source: str = ""
) -> ledger.EntryIn:
    return ledger.EntryIn(
        teacher_id=teacher,
        source_kind="bonus",
        source_id=source or uuid.uuid4().hex,
        category=category,
        hours=Decimal(hours),
        occurred_at=NOW,
        org=org,
    )


async def post(client: httpx.AsyncClient, *entries: ledger.EntryIn, **kw: Any) -> int:
    async with runtime(client).session_factory() as session, session.begin():
        return await ledger.post_entries(session, list(entries), **kw)


async def status(client: httpx.AsyncClient, teacher: uuid.UUID) -> ledger.YearStatus:
    async with runtime(client).session_factory() as session:
        return await ledger.year_status(session, teacher_id=teacher, year=YEAR)


async def test_a_source_counts_once_whatever_is_replayed(client: httpx.AsyncClient) -> None:
    teacher = await known_teacher(client, ZQ)
    first = entry(teacher, "professional", "8", source="training-42")
    assert await post(client, first) == 1
    assert await post(client, first, first) == 0
    assert (await status(client, teacher)).recorded_by_category == {"professional": Decimal(8)}
    async with runtime(client).session_factory() as session:
        n = await session.scalar(select(func.count()).select_from(LedgerEntry))
    assert n == 1


async def test_ledger_entries_can_be_neither_updated_nor_deleted(
    client: httpx.AsyncClient,
) -> None:
    teacher = await known_teacher(client, ZQ)
    await post(client, entry(teacher, "public", "4"))
    for sql in (
        "UPDATE credits.ledger_entries SET hours = 99",
        "DELETE FROM credits.ledger_entries",
    ):
        with pytest.raises(DBAPIError, match="append-only"):
            async with runtime(client).session_factory() as session, session.begin():
                await session.execute(text(sql))


async def test_hours_above_the_annual_cap_are_kept_but_not_counted(
    client: httpx.AsyncClient, token_for: Callable[..., str]
) -> None:
    teacher = await known_teacher(client, ZQ)
    await post(client, entry(teacher, "public", "20"), entry(teacher, "general_required", "15"))
    s = await status(client, teacher)
    assert s.recorded_by_category["public"] == Decimal(35)  # general_required maps to 公需
    assert s.counted_by_category["public"] == Decimal(30)
    assert s.above_caps == {"public": Decimal(5)}
    token = token_for("teacher", ZQ.as_list(), teacher_id=str(teacher))
    r = await client.get(
        f"/ledger/{teacher}/balance",
        params={"year": YEAR},
        headers={"Authorization": f"Bearer {token}"},
    )
    assert r.status_code == 200
    public = next(c for c in r.json()["categories"] if c["category"] == "public")
    assert public["above_cap_hours"] == "5.0" and "不计入" in public["note"]


async def test_zhaoqing_year_is_complete_at_90_counted_hours(client: httpx.AsyncClient) -> None:
    teacher = await known_teacher(client, ZQ)
    await post(client, entry(teacher, "public", "30"), entry(teacher, "professional", "42"))
    assert not (await status(client, teacher)).complete
    await post(client, entry(teacher, "elective", "30"))  # 18 count, 12 above the cap
    s = await status(client, teacher)
    assert s.counted_total == Decimal(90) and s.complete


async def test_a_reversal_cancels_an_entry_once_and_needs_a_county_admin_in_scope(
    client: httpx.AsyncClient, token_for: Callable[..., str]
) -> None:
    teacher = await known_teacher(client, ZQ)
    await post(client, entry(teacher, "professional", "8"))
    teacher_auth = {
        "Authorization": f"Bearer {token_for('teacher', ZQ.as_list(), teacher_id=str(teacher))}"
    }
    listed = (await client.get(f"/ledger/{teacher}", headers=teacher_auth)).json()["items"]
    body = {"entry_id": listed[0]["id"], "reason": "培训记录重复登记"}
    other = {"Authorization": f"Bearer {token_for('county_admin', ZQ_OTHER_COUNTY.as_list()[:3])}"}
    r = await client.post(f"/ledger/{teacher}/reversals", json=body, headers=other)
    assert (r.status_code, r.json()["code"]) == (404, "ledger_entry_not_found")
    r = await client.post(f"/ledger/{teacher}/reversals", json=body, headers=teacher_auth)
    assert r.status_code == 403
    county = {"Authorization": f"Bearer {token_for('county_admin', ZQ.as_list()[:3])}"}
    r = await client.post(f"/ledger/{teacher}/reversals", json=body, headers=county)
    assert r.status_code == 201, r.text
    assert r.json()["hours"] == "-8.0" and r.json()["reason"] == "培训记录重复登记"
    again = await client.post(f"/ledger/{teacher}/reversals", json=body, headers=county)
    assert again.status_code == 409 and again.json()["code"] == "already_reversed"
    assert (await status(client, teacher)).counted_total == Decimal(0)


async def test_balance_as_of_a_past_date_ignores_later_entries(client: httpx.AsyncClient) -> None:
    teacher = await known_teacher(client, ZQ)
    await post(client, entry(teacher, "professional", "8"))
    async with runtime(client).session_factory() as session, session.begin():
        # Age the first entry by 30 days (the test lifts the append-only guard to do so).
        await session.execute(
            text("ALTER TABLE credits.ledger_entries DISABLE TRIGGER ledger_append_only")
        )
        await session.execute(
            text("UPDATE credits.ledger_entries SET recorded_at = now() - interval '30 days'")
        )
        await session.execute(
            text("ALTER TABLE credits.ledger_entries ENABLE TRIGGER ledger_append_only")
        )
    await post(client, entry(teacher, "professional", "4"))
    async with runtime(client).session_factory() as session:
        week_ago = await ledger.year_status(
            session,
            teacher_id=teacher,
            year=YEAR,
            as_of=date.fromordinal(ledger.shanghai_day(NOW).toordinal() - 7),
        )
    assert week_ago.recorded_by_category == {"professional": Decimal(8)}
    assert (await status(client, teacher)).recorded_by_category == {"professional": Decimal(12)}


async def test_a_closed_shandong_year_refuses_late_records(client: httpx.AsyncClient) -> None:
    teacher = await known_teacher(client, SD)
    late = ledger.EntryIn(
        teacher_id=teacher,
        source_kind="offline",
        source_id="r-1",
        category="offline",
        hours=Decimal(8),
        occurred_at=datetime(2023, 12, 20, tzinfo=UTC),
        org=SD,
        year=2023,
    )
    with pytest.raises(YearClosed):
        await post(client, late, now=datetime(2024, 1, 2, tzinfo=UTC))
    assert await post(client, late, now=datetime(2024, 1, 2, tzinfo=UTC), strict=False) == 0
    assert await post(client, late, now=datetime(2023, 12, 31, 15, tzinfo=UTC)) == 1  # 23:00 CST


async def test_late_zhaoqing_records_go_to_the_next_year(client: httpx.AsyncClient) -> None:
    teacher = await known_teacher(client, ZQ)
    late = ledger.EntryIn(
        teacher_id=teacher,
        source_kind="offline",
        source_id="r-2",
        category="professional",
        hours=Decimal(8),
        occurred_at=datetime(2023, 12, 20, tzinfo=UTC),
        org=ZQ,
        year=2023,
    )
    assert await post(client, late, now=datetime(2024, 1, 2, tzinfo=UTC)) == 1
    async with runtime(client).session_factory() as session:
        years = (await session.scalars(select(LedgerEntry.year))).all()
    assert years == [2024]


async def publish(client: httpx.AsyncClient, *events: Event, replay: int = 1) -> None:
    rt = runtime(client)
    await rt.producer_ready.wait()
    for event in events:
        env = event.envelope(producer="learning", trace_id="test")
        for _ in range(replay):
            await rt.producer.send_and_wait(
                rt.settings.topic(event.TOPIC), env.model_dump_json().encode(), key=env.key.encode()
            )


async def entries_of(client: httpx.AsyncClient, teacher: uuid.UUID) -> list[LedgerEntry]:
    async with runtime(client).session_factory() as session:
        stmt = select(LedgerEntry).where(LedgerEntry.teacher_id == teacher)
        return list((await session.scalars(stmt.order_by(LedgerEntry.recorded_at))).all())


async def test_requirements_met_becomes_the_shandong_project_credit_once(
    client: httpx.AsyncClient,
) -> None:
    teacher, project = uuid.uuid4(), uuid.uuid4()
    met = RequirementsMet(
        evaluation_id=uuid.uuid4(),
        teacher_id=teacher,
        project_id=project,
        project_year=YEAR,
        rule_set="shandong-2023",
        hours_by_category={"subject_required": Decimal(3), "elective": Decimal(30)},
        total_hours=Decimal(35),
        org=SD,
        met_at=NOW,
    )
    await publish(client, met, replay=3)
    await publish(client, met.model_copy(update={"evaluation_id": uuid.uuid4()}))
    rows = await eventually(lambda: entries_of(client, teacher), timeout=30)
    await eventually(lambda: _len_is(client, teacher, 1))
    assert rows[0].source_kind == "project" and rows[0].hours == Decimal(28)  # 24–28 credits
    unmet = RequirementsUnmet(
        evaluation_id=uuid.uuid4(),
        teacher_id=teacher,
        project_id=project,
        project_year=YEAR,
        rule_set="shandong-2023",
        hours_by_category={},
        total_hours=Decimal(20),
        reason="xAPI 语句作废",
        org=SD,
        unmet_at=NOW,
    )
    await publish(client, unmet)
    await eventually(lambda: _len_is(client, teacher, 2), timeout=30)
    assert (await entries_of(client, teacher))[1].hours == Decimal(-28)


async def _len_is(client: httpx.AsyncClient, teacher: uuid.UUID, n: int) -> bool:
    return len(await entries_of(client, teacher)) == n


async def test_course_completions_count_in_zhaoqing_but_not_in_shandong(
    client: httpx.AsyncClient,
) -> None:
    zq, sd = uuid.uuid4(), uuid.uuid4()

    def done(teacher: uuid.UUID, org: OrgPath) -> CourseCompleted:
        return CourseCompleted(
            completion_id=uuid.uuid4(),
            teacher_id=teacher,
            project_id=uuid.uuid4(),
            project_year=YEAR,
            course_id=None,
            course_title="班级管理中的沟通艺术",
            category="general_elective",
            hours=Decimal(6),
            source="video",
            org=org,
            completed_at=NOW,
        )

    await publish(client, done(sd, SD), done(zq, ZQ))
    rows = await eventually(lambda: entries_of(client, zq), timeout=30)
    assert rows[0].category == "elective" and rows[0].hours == Decimal(6)
    assert await entries_of(client, sd) == []


async def test_a_teacher_sees_only_their_own_ledger(
    client: httpx.AsyncClient, token_for: Callable[..., str]
) -> None:
    mine, theirs = await known_teacher(client, ZQ), await known_teacher(client, ZQ)
    token = token_for("teacher", ZQ.as_list(), teacher_id=str(mine))
    r = await client.get(f"/ledger/{theirs}", headers={"Authorization": f"Bearer {token}"})
    assert r.status_code == 404
    other = token_for("county_admin", ZQ_OTHER_COUNTY.as_list()[:3])
    r = await client.get(f"/ledger/{mine}", headers={"Authorization": f"Bearer {other}"})
    assert r.status_code == 404


async def test_city_totals_give_completion_rates_by_county_within_scope(
    client: httpx.AsyncClient, token_for: Callable[..., str]
) -> None:
    done = await known_teacher(client, ZQ)
    await known_teacher(client, ZQ)  # registered, no credit yet
    elsewhere = await known_teacher(client, ZQ_OTHER_COUNTY)
    await post(
        client,
        entry(done, "public", "30"),
        entry(done, "professional", "42"),
        entry(done, "elective", "18"),
        entry(elsewhere, "public", "10", org=ZQ_OTHER_COUNTY),
    )
    city = {"Authorization": f"Bearer {token_for('city_admin', ZQ.as_list()[:2])}"}
    params = {"level": "county", "parent": ZQ.city_id, "year": YEAR}
    r = await client.get("/reports/totals", params=params, headers=city)
    assert r.status_code == 200, r.text
    rows = {row["org_id"]: row for row in r.json()["rows"]}
    assert rows[ZQ.county_id]["teachers"] == 2 and rows[ZQ.county_id]["complete"] == 1
    assert rows[ZQ.county_id]["completion_rate"] == 0.5
    assert rows[ZQ_OTHER_COUNTY.county_id]["counted_hours"] == "10.0"
    county = {"Authorization": f"Bearer {token_for('county_admin', ZQ.as_list()[:3])}"}
    r = await client.get("/reports/totals", params=params, headers=county)
    assert [row["org_id"] for row in r.json()["rows"]] == [ZQ.county_id]  # its own only
    x = await client.get("/reports/totals.xlsx", params=params, headers=city)
    sheet = load_workbook(io.BytesIO(x.content)).active
    assert sheet.cell(1, 5).value == "完成率" and sheet.max_row == 3


async def test_report_denominators_follow_a_transfer_and_totals_sum_every_slot(
    client: httpx.AsyncClient, token_for: Callable[..., str]
) -> None:
    stays = await known_teacher(client, ZQ)
    moves = await known_teacher(client, ZQ)
    for _ in range(20):  # twenty transactions: their totals land in several slots
        await post(client, entry(stays, "public", "1"))
    async with runtime(client).session_factory() as session, session.begin():
        await on_teacher_transferred(
            session,
            TeacherTransferred(
                teacher_id=moves,
                from_org=ZQ,
                to_org=ZQ_OTHER_COUNTY,
                org=ZQ_OTHER_COUNTY,
                from_departed_pool=False,
                stage="primary",
                subject="语文",
                transferred_at=NOW,
            ),
        )
        slots = await session.scalar(
            text("SELECT count(DISTINCT slot) FROM credits.org_year_totals WHERE level = 'city'")
        )
    assert slots is not None and slots > 1
    city = {"Authorization": f"Bearer {token_for('city_admin', ZQ.as_list()[:2])}"}
    params = {"level": "county", "parent": ZQ.city_id, "year": YEAR}
    r = await client.get("/reports/totals", params=params, headers=city)
    rows = {row["org_id"]: row for row in r.json()["rows"]}
    assert rows[ZQ.county_id]["teachers"] == 1 and rows[ZQ.county_id]["counted_hours"] == "20.0"
    assert rows[ZQ_OTHER_COUNTY.county_id]["teachers"] == 1
    r = await client.get(
        "/reports/totals",
        params={**params, "level": "city", "parent": ZQ.province_id},
        headers={"Authorization": f"Bearer {token_for('province_admin', ZQ.as_list()[:1])}"},
    )
    assert r.json()["rows"] == [
        {**r.json()["rows"][0], "org_id": ZQ.city_id, "teachers": 2, "counted_hours": "20.0"}
    ]
