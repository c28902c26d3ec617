"""Regions as data (issue #14.4): a Zhaoqing teacher lands in the Zhaoqing rule set and a Hefei
teacher in Hefei's IT 2.0 one (60 h: 网络研修 30 + 校本研修 30), by the city enrollment gives
them; each region file names its source notice; exactly one region is the fallback."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import UTC, datetime
from decimal import Decimal

import httpx
import pytest
from sqlalchemy import select

from credits.ledger import service as ledger
from credits.ledger.models import LedgerEntry, Teacher
from credits.ledger.regions import fallback_region, region_for, regions
from yanxiu.contracts.envelope import OrgPath
from yanxiu.contracts.learning import CourseCompleted
from yanxiu.kit.app import Runtime
from yanxiu.testing import eventually

ZHAOQING = OrgPath(
    province_id="440000", city_id="441200", county_id="441202", school_id="441202-S001"
)
HEFEI = OrgPath(province_id="340000", city_id="340100", county_id="340104", school_id="340104-S001")
WUHU = OrgPath(province_id="340000", city_id="340200", county_id="340202", school_id="340202-S001")
JINAN = OrgPath(province_id="370000", city_id="370100", county_id="370102", school_id="370102-S001")
NOW = datetime.now(UTC)
YEAR = ledger.shanghai_day(NOW).year


def runtime(client: httpx.AsyncClient) -> Runtime:
    rt: Runtime = client.app.state.runtime  # type: ignore[attr-defined]
    return rt


@pytest.mark.parametrize(
    ("org", "region"),
    [(ZHAOQING, "zhaoqing"), (HEFEI, "hefei"), (JINAN, "shandong")],
    ids=["zhaoqing", "hefei", "shandong"],
)
def test_a_teacher_lands_in_the_region_of_their_city_or_province(org: OrgPath, region: str) -> None:
    assert region_for(org).code == region


def test_a_teacher_whose_place_no_region_names_gets_the_one_fallback_region() -> None:
    """Wuhu (Anhui, but not Hefei) has no rule set of its own: Hefei's is a city programme."""
    assert [r.code for r in regions().values() if r.fallback] == [fallback_region().code]
    assert region_for(WUHU) == fallback_region()


def test_every_region_file_cites_the_notice_its_numbers_come_from() -> None:
    for region in regions().values():
        assert region.source and "seeds/" in region.source, region.code


def test_hefei_it2_is_60_hours_online_30_and_school_based_30() -> None:
    hefei = regions()["hefei"]
    assert {c.code: (c.name, c.annual_cap) for c in hefei.categories} == {
        "online": ("网络研修", Decimal(30)),
        "school_based": ("校本研修", Decimal(30)),
    }
    assert hefei.annual_required == Decimal(60)
    for learning_category in ("subject_required", "general_elective", "general_required"):
        assert hefei.category(learning_category) == "online"
    assert hefei.category("school_based") == "school_based"
    assert hefei.count_course_completions and not hefei.count_requirements_met


async def test_a_hefei_teachers_year_completes_at_30_online_and_30_school_based_hours(
    client: httpx.AsyncClient, token_for: Callable[..., str]
) -> None:
    teacher = uuid.uuid4()
    async with runtime(client).session_factory() as session, session.begin():
        session.add(Teacher(teacher_id=teacher, name="王芳", **HEFEI.model_dump()))

    def entry(category: str, hours: str) -> ledger.EntryIn:
        return ledger.EntryIn(
            teacher_id=teacher,
            source_kind="course",
            source_id=uuid.uuid4().hex,
            category=category,
            hours=Decimal(hours),
            occurred_at=NOW,
            org=HEFEI,
        )

    async with runtime(client).session_factory() as session, session.begin():
        await ledger.post_entries(
            session,
            [
                entry("subject_required", "20"),
                entry("general_elective", "16"),
                entry("school_based", "24"),
            ],
        )
    async with runtime(client).session_factory() as session:
        status = await ledger.year_status(session, teacher_id=teacher, year=YEAR)
    assert status.region == "hefei"
    assert status.counted_by_category == {"online": Decimal(30), "school_based": Decimal(24)}
    assert not status.complete  # 54 of 60: the online hours above 30 do not count
    async with runtime(client).session_factory() as session, session.begin():
        await ledger.post_entries(session, [entry("school_based", "6")])
    async with runtime(client).session_factory() as session:
        status = await ledger.year_status(session, teacher_id=teacher, year=YEAR)
    assert status.counted_total == Decimal(60) and status.complete
    # 继续教育证书, as for a Shandong or Zhaoqing teacher.
    me = {
        "Authorization": f"Bearer {token_for('teacher', HEFEI.as_list(), teacher_id=str(teacher))}"
    }
    r = await client.post("/certificates", json={"year": YEAR}, headers=me)
    assert r.status_code == 201, r.text
    cert = r.json()
    assert cert["region"] == "hefei" and Decimal(cert["total_hours"]) == 60
    assert {k: Decimal(v) for k, v in cert["hours_by_category"].items()} == {
        "online": 30,
        "school_based": 30,
    }
    pdf = await client.get(f"/certificates/{cert['code']}.pdf", headers=me)
    assert pdf.status_code == 200 and pdf.content.startswith(b"%PDF")


@pytest.mark.parametrize(
    ("org", "region", "category"),
    [(ZHAOQING, "zhaoqing", "elective"), (HEFEI, "hefei", "online")],
    ids=["zhaoqing", "hefei"],
)
async def test_a_course_completed_in_learning_lands_in_the_teachers_region(
    client: httpx.AsyncClient, org: OrgPath, region: str, category: str
) -> None:
    teacher = uuid.uuid4()
    done = CourseCompleted(
        completion_id=uuid.uuid4(),
        teacher_id=teacher,
        project_id=uuid.uuid4(),
        project_year=YEAR,
        course_id=uuid.uuid4(),
        course_title="信息技术支持的学情分析",
        category="general_elective",
        hours=Decimal(6),
        source="video",
        org=org,
        completed_at=NOW,
    )
    rt = runtime(client)
    await rt.producer_ready.wait()
    env = done.envelope(producer="learning", trace_id="test")
    await rt.producer.send_and_wait(
        rt.settings.topic(done.TOPIC), env.model_dump_json().encode(), key=env.key.encode()
    )

    async def entries() -> list[LedgerEntry]:
        async with rt.session_factory() as session:
            found = await session.scalars(
                select(LedgerEntry).where(LedgerEntry.teacher_id == teacher)
            )
            return list(found)

    rows = await eventually(entries, timeout=30)
    assert [(r.region, r.category, r.hours) for r in rows] == [(region, category, Decimal(6))]
