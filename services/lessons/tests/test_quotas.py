"""市级优课名额: the 2020 Annex 2 table as data, first ≤ 20% and second ≤ 30% of a city's quota,
no award beyond the quota (also under concurrent awards), and the deadline for awards."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Awaitable, Callable
from datetime import date, timedelta

import httpx
import pytest
from sqlalchemy import select

from lessons.config import Settings
from lessons.main import create_app
from lessons.models import Lesson
from lessons.showcase.models import CityQuotaCounter
from lessons.showcase.rules import CityQuota, QuotaTable, check_table, load_rules
from services.lessons.tests.conftest import (
    JINAN,
    LIXIA,
    LIXIA_SCHOOL,
    PROVINCE,
    RONGCHENG_SCHOOL,
    WEIHAI,
    YEAR,
    SeedLesson,
    Tokens,
    outbox_events,
)
from yanxiu.testing import app_client

JINAN_ID = "370100"


async def award(
    client: httpx.AsyncClient,
    tokens: Tokens,
    lesson_id: object,
    level: str,
    city: list[str] = JINAN,
) -> httpx.Response:
    return await client.post(
        f"/lessons/{lesson_id}/award", json={"award": level}, headers=tokens.admin(city)
    )


async def fill_counter(client: httpx.AsyncClient, award_level: str, *, left: int) -> int:
    """Mark Jinan's places of one award level used up to `left` remaining; returns the quota."""
    table = load_rules().quota_table(YEAR)
    assert table is not None
    quota = (
        table.cities[JINAN_ID].total
        if award_level == "city_level"
        else table.cap(JINAN_ID, award_level)
    )
    assert quota is not None
    rt = client.app.state.runtime  # type: ignore[attr-defined]
    async with rt.session_factory() as session, session.begin():
        session.add(
            CityQuotaCounter(
                year=YEAR, city_id=JINAN_ID, award=award_level, quota=quota, used=quota - left
            )
        )
    return quota


def test_annex2_table_totals_6000_first_9000_second_15000_third() -> None:
    table = load_rules().quota_table(2020)
    assert table is not None and table.year == 2020 and len(table.cities) == 16
    assert sum(c.first for c in table.cities.values()) == 6000
    assert sum(c.second for c in table.cities.values()) == 9000
    assert sum(c.third for c in table.cities.values()) == 15000
    assert sum(c.total for c in table.cities.values()) == 30000
    jinan, linyi = table.cities["370100"], table.cities["371300"]
    assert (jinan.name, jinan.first, jinan.second, jinan.third, jinan.total) == (
        "济南市",
        529,
        793,
        1322,
        2644,
    )
    assert (linyi.first, linyi.second, linyi.total) == (578, 869, 2894)


def test_later_years_use_the_latest_published_table() -> None:
    rules = load_rules()
    assert rules.quota_table(2023).year == 2020  # type: ignore[union-attr]
    assert rules.quota_table(2019) is None


def test_a_table_giving_more_than_20_percent_first_prizes_is_refused() -> None:
    limits = {"first": 0.2, "second": 0.3}
    too_many_first = QuotaTable(2030, "", limits, {"1": CityQuota("1", "甲市", 30, 30, 40)})
    with pytest.raises(ValueError, match="first"):
        check_table(too_many_first)
    too_many_second = QuotaTable(2030, "", limits, {"1": CityQuota("1", "甲市", 20, 31, 49)})
    with pytest.raises(ValueError, match="second"):
        check_table(too_many_second)
    check_table(QuotaTable(2030, "", limits, {"1": CityQuota("1", "甲市", 20, 30, 50)}))


def test_first_and_second_places_never_exceed_their_share_of_the_quota() -> None:
    limits = {"first": 0.2, "second": 0.3}
    # An unchecked table with too many first prizes still caps them at 20% of the total.
    table = QuotaTable(2030, "", limits, {"1": CityQuota("1", "甲市", 60, 60, 80)})
    assert table.cap("1", "first") == 40 and table.cap("1", "second") == 60
    shipped = load_rules().quota_table(2020)
    assert shipped is not None
    for city in shipped.cities.values():
        assert shipped.cap(city.city_id, "first") == city.first
        assert city.first <= -(-city.total * 2 // 10)  # ceil(20%)
        assert city.second <= -(-city.total * 3 // 10)  # ceil(30%)


async def test_get_quotas_lists_every_city_for_the_province(
    client: httpx.AsyncClient, tokens: Tokens
) -> None:
    r = await client.get("/quotas", params={"year": 2020}, headers=tokens.admin(PROVINCE))
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["totals"] == {"first": 6000, "second": 9000, "third": 15000, "total": 30000}
    assert len(body["cities"]) == 16 and body["table_year"] == 2020
    jinan = next(c for c in body["cities"] if c["city_id"] == JINAN_ID)
    assert [(a["award"], a["places"], a["used"]) for a in jinan["awards"]] == [
        ("first", 529, 0),
        ("second", 793, 0),
        ("third", 1322, 0),
    ]


async def test_a_city_sees_its_own_quota_and_a_year_without_table_is_404(
    client: httpx.AsyncClient, tokens: Tokens
) -> None:
    r = await client.get("/quotas", params={"year": 2023}, headers=tokens.admin(WEIHAI))
    assert [c["city_name"] for c in r.json()["cities"]] == ["威海市"]
    assert r.json()["city_level_deadline"] == "2023-09-27"
    r = await client.get("/quotas", params={"year": 2019}, headers=tokens.admin(PROVINCE))
    assert r.status_code == 404 and r.json()["code"] == "no_quota_table"


async def test_city_awards_a_city_level_lesson_and_announces_it(
    client: httpx.AsyncClient, tokens: Tokens, seed_lesson: SeedLesson
) -> None:
    lesson = await seed_lesson(level="city")
    r = await award(client, tokens, lesson.id, "first")
    assert r.status_code == 201, r.text
    assert r.json()["award"] == "first" and r.json()["scope"] == "city"
    shown = await client.get(f"/lessons/{lesson.id}", headers=tokens.admin(JINAN))
    assert shown.json()["award"] == "first"
    [event] = await outbox_events(client, "lessons.lesson_awarded")
    assert event["key"] == str(lesson.teacher_id)
    assert event["data"]["award"] == "first" and event["data"]["lesson_id"] == str(lesson.id)
    assert event["data"]["org"]["city_id"] == JINAN_ID
    quotas = await client.get("/quotas", params={"year": YEAR}, headers=tokens.admin(JINAN))
    first = quotas.json()["cities"][0]["awards"][0]
    assert (first["used"], first["remaining"]) == (1, 528)


async def test_only_city_level_lessons_are_awarded_once_by_their_own_city(
    client: httpx.AsyncClient, tokens: Tokens, seed_lesson: SeedLesson
) -> None:
    county_level = await seed_lesson(level="county")
    r = await award(client, tokens, county_level.id, "third")
    assert r.status_code == 409 and r.json()["code"] == "not_city_level"
    lesson = await seed_lesson(level="city")
    r = await client.post(
        f"/lessons/{lesson.id}/award", json={"award": "third"}, headers=tokens.admin(LIXIA)
    )
    assert r.status_code == 403
    assert (await award(client, tokens, lesson.id, "third", city=WEIHAI)).status_code == 404
    assert (await award(client, tokens, lesson.id, "third")).status_code == 201
    r = await award(client, tokens, lesson.id, "second")
    assert r.status_code == 409 and r.json()["code"] == "already_awarded"


async def test_city_cannot_award_beyond_its_quota(
    client: httpx.AsyncClient, tokens: Tokens, seed_lesson: SeedLesson
) -> None:
    quota = await fill_counter(client, "first", left=1)
    last, beyond = await seed_lesson(level="city"), await seed_lesson(level="city")
    assert (await award(client, tokens, last.id, "first")).status_code == 201
    r = await award(client, tokens, beyond.id, "first")
    assert r.status_code == 409 and r.json()["code"] == "quota_exceeded"
    assert r.json()["places"] == quota == 529
    assert (await award(client, tokens, beyond.id, "second")).status_code == 201
    other_city = await seed_lesson(level="city", school=RONGCHENG_SCHOOL)
    assert (await award(client, tokens, other_city.id, "first", city=WEIHAI)).status_code == 201


async def test_concurrent_awards_never_overrun_the_quota(
    client: httpx.AsyncClient, tokens: Tokens, seed_lesson: SeedLesson
) -> None:
    quota = await fill_counter(client, "second", left=1)
    lessons = [await seed_lesson(level="city") for _ in range(4)]
    results = await asyncio.gather(*(award(client, tokens, x.id, "second") for x in lessons))
    assert sorted(r.status_code for r in results) == [201, 409, 409, 409]
    rt = client.app.state.runtime  # type: ignore[attr-defined]
    async with rt.session_factory() as session:
        used = await session.scalar(
            select(CityQuotaCounter.used).where(
                CityQuotaCounter.city_id == JINAN_ID, CityQuotaCounter.award == "second"
            )
        )
    assert used == quota


async def test_city_cannot_award_after_the_deadline(
    lessons_settings: Callable[..., Settings], tokens: Tokens
) -> None:
    past = date.today() - timedelta(days=2)
    app = create_app(lessons_settings(city_level_deadlines={YEAR: past}))
    async with app_client(app) as client:
        lesson = Lesson(
            id=uuid.uuid4(),
            year=YEAR,
            teacher_id=uuid.uuid4(),
            teacher_name="王老师",
            stage="primary",
            grade="三年级",
            subject="语文",
            textbook_version="统编版",
            title="截止后",
            curriculum="national",
            track="competition",
            video_url="https://v/1",
            province_id="370000",
            city_id=JINAN_ID,
            county_id=LIXIA[-1],
            school_id=LIXIA_SCHOOL[-1],
            level="city",
            provincial=False,
        )
        async with app.state.runtime.session_factory() as session, session.begin():
            session.add(lesson)
        r = await award(client, tokens, lesson.id, "first")
        assert r.status_code == 409 and r.json()["code"] == "city_deadline_passed"


async def test_city_cannot_push_more_city_level_lessons_than_its_quota_total(
    client: httpx.AsyncClient, tokens: Tokens, seed_lesson: SeedLesson
) -> None:
    last = await seed_lesson(level="county", title="最后一个名额")
    beyond = await seed_lesson(level="county", title="超出名额")
    local = await seed_lesson(level="county", title="地方课程", curriculum="local")
    total = await fill_counter(client, "city_level", left=1)
    assert total == 2644

    def up(lesson_id: uuid.UUID) -> Awaitable[httpx.Response]:
        return client.post(
            f"/lessons/{lesson_id}/promotions", json={"level": "city"}, headers=tokens.admin(JINAN)
        )

    assert (await up(last.id)).status_code == 200
    r = await up(beyond.id)
    assert r.status_code == 409 and r.json()["code"] == "city_level_quota_full"
    assert (await up(local.id)).status_code == 200  # showcase only: no competition place
    quotas = await client.get("/quotas", params={"year": YEAR}, headers=tokens.admin(JINAN))
    assert quotas.json()["cities"][0]["city_level_used"] == total
