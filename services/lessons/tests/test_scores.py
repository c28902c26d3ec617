"""省级优课观评总成绩: review mean plus the city award's weight, ranked per pool (year × stage ×
subject) over national-curriculum city-level lessons; the province selects provincial lessons."""

from __future__ import annotations

import json
from decimal import Decimal
from typing import Any

import httpx
import pytest
from sqlalchemy import Column, MetaData, Numeric, String, Table
from sqlalchemy.dialects.postgresql import UUID

from lessons.showcase import scores
from services.lessons.tests.conftest import (
    JINAN,
    LIXIA_SCHOOL,
    PROVINCE,
    RONGCHENG_SCHOOL,
    WEIHAI,
    YEAR,
    SeedLesson,
    Tokens,
    outbox_events,
)
from yanxiu.contracts.lessons import LESSONS_TOPIC
from yanxiu.testing import read_topic

POOL: dict[str, str | int] = {"year": YEAR, "stage": "primary", "subject": "语文"}


async def ranking(
    client: httpx.AsyncClient, headers: dict[str, str], **params: str | int
) -> list[dict[str, Any]]:
    items: list[dict[str, Any]] = []
    cursor = None
    while True:
        query = {**POOL, **params}
        if cursor:
            query["cursor"] = cursor
        r = await client.get("/scores", params=query, headers=headers)
        assert r.status_code == 200, r.text
        items += r.json()["items"]
        cursor = r.json()["next_cursor"]
        if cursor is None:
            return items


async def test_city_award_weight_counts_in_the_provincial_score(
    client: httpx.AsyncClient, tokens: Tokens, seed_lesson: SeedLesson
) -> None:
    third = await seed_lesson(award="third", title="三等")
    first = await seed_lesson(award="first", title="一等")
    plain = await seed_lesson(title="未评奖")
    second = await seed_lesson(award="second", title="二等", school=RONGCHENG_SCHOOL)
    items = await ranking(client, tokens.admin(PROVINCE))
    assert [i["lesson_id"] for i in items] == [str(x.id) for x in (first, second, third, plain)]
    assert [Decimal(str(i["total"])) for i in items] == [20, 15, 10, 0]
    assert [i["rank"] for i in items] == [1, 2, 3, 4]
    assert Decimal(str(items[0]["award_points"])) == 20 and items[0]["reviews"] == 0
    assert items[0]["review_mean"] is None


async def test_pool_holds_only_national_city_level_lessons_of_its_stage_and_subject(
    client: httpx.AsyncClient, tokens: Tokens, seed_lesson: SeedLesson
) -> None:
    inside = await seed_lesson(level="city")
    provincial = await seed_lesson(level="province")
    await seed_lesson(level="county")  # not city-level
    await seed_lesson(level="city", curriculum="local")  # showcase only, never reviewed
    await seed_lesson(level="city", subject="数学")  # another pool
    await seed_lesson(level="city", year=YEAR + 1)  # another year
    items = await ranking(client, tokens.admin(PROVINCE))
    assert {i["lesson_id"] for i in items} == {str(inside.id), str(provincial.id)}


async def test_ranking_pages_through_ties_without_repeats(
    client: httpx.AsyncClient, tokens: Tokens, seed_lesson: SeedLesson
) -> None:
    lessons = [await seed_lesson(award="third") for _ in range(5)]
    lessons += [await seed_lesson(award="first")]
    items = await ranking(client, tokens.admin(PROVINCE), limit=2)
    assert len(items) == 6 and len({i["lesson_id"] for i in items}) == 6
    assert [i["rank"] for i in items] == [1, 2, 2, 2, 2, 2]  # equal totals share a rank


async def test_a_city_sees_its_own_lessons_with_pool_wide_ranks(
    client: httpx.AsyncClient, tokens: Tokens, seed_lesson: SeedLesson
) -> None:
    await seed_lesson(award="first")
    weihai = await seed_lesson(award="third", school=RONGCHENG_SCHOOL)
    items = await ranking(client, tokens.admin(WEIHAI))
    assert [(i["lesson_id"], i["rank"]) for i in items] == [(str(weihai.id), 2)]
    r = await client.get("/scores", params=POOL, headers=tokens.teacher(LIXIA_SCHOOL))
    assert r.status_code == 403


async def test_province_selects_a_provincial_lesson_and_announces_it(
    client: httpx.AsyncClient, tokens: Tokens, seed_lesson: SeedLesson
) -> None:
    lesson = await seed_lesson(level="city", award="first")
    r = await client.post(f"/lessons/{lesson.id}/provincial-selection", headers=tokens.admin(JINAN))
    assert r.status_code == 403
    r = await client.post(
        f"/lessons/{lesson.id}/provincial-selection", headers=tokens.admin(PROVINCE)
    )
    assert r.status_code == 201, r.text
    assert r.json()["award"] == "provincial" and r.json()["scope"] == "province"
    shown = (await client.get(f"/lessons/{lesson.id}", headers=tokens.admin(PROVINCE))).json()
    assert shown["level"] == "province" and shown["provincial"] is True
    [event] = await outbox_events(client, "lessons.lesson_awarded")
    assert event["data"]["award"] == "provincial"
    assert event["data"]["teacher_id"] == str(lesson.teacher_id)
    r = await client.post(
        f"/lessons/{lesson.id}/provincial-selection", headers=tokens.admin(PROVINCE)
    )
    assert r.status_code == 409 and r.json()["code"] == "already_provincial"


async def test_province_selects_only_city_level_lessons(
    client: httpx.AsyncClient, tokens: Tokens, seed_lesson: SeedLesson
) -> None:
    school_level = await seed_lesson(level="school")
    r = await client.post(
        f"/lessons/{school_level.id}/provincial-selection", headers=tokens.admin(PROVINCE)
    )
    assert r.status_code == 409 and r.json()["code"] == "not_selected_by_county_and_city"


async def test_lesson_awarded_reaches_the_broker_through_the_outbox(
    client: httpx.AsyncClient,
    tokens: Tokens,
    seed_lesson: SeedLesson,
    broker: str,
    topic_prefix: str,
) -> None:
    lesson = await seed_lesson(level="city")
    r = await client.post(
        f"/lessons/{lesson.id}/award", json={"award": "second"}, headers=tokens.admin(JINAN)
    )
    assert r.status_code == 201
    r = await client.post(
        f"/lessons/{lesson.id}/provincial-selection", headers=tokens.admin(PROVINCE)
    )
    assert r.status_code == 201
    # The provincial selection also promotes the lesson to province level (逐级遴选).
    records = await read_topic(broker, f"{topic_prefix}{LESSONS_TOPIC}", expect=3)
    events = [json.loads(rec.value) for rec in records]
    assert [e["type"] for e in events] == [
        "lessons.lesson_awarded",
        "lessons.lesson_promoted",
        "lessons.lesson_awarded",
    ]
    assert [e["data"].get("award") for e in events] == ["second", None, "provincial"]
    assert {rec.key for rec in records} == {str(lesson.teacher_id).encode()}


async def test_score_is_the_mean_of_submitted_reviews_plus_the_award_weight(
    client: httpx.AsyncClient,
    tokens: Tokens,
    seed_lesson: SeedLesson,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # A stand-in with the columns scores reads from the reviews package's table (lesson_id,
    # total_score, status), in this test's own database.
    stand_in = Table(
        "reviews_stand_in",
        MetaData(schema="lessons"),
        Column("lesson_id", UUID(as_uuid=True)),
        Column("total_score", Numeric(6, 2)),
        Column("status", String(20)),
    )
    rt = client.app.state.runtime  # type: ignore[attr-defined]
    async with rt.engine.begin() as conn:
        await conn.run_sync(stand_in.create)
    monkeypatch.setattr(scores, "_reviews", lambda: stand_in)

    well_reviewed = await seed_lesson(award="third")  # mean 90 + 10
    first_prize = await seed_lesson(award="first")  # mean 70 + 20
    unreviewed = await seed_lesson()
    other_pool = await seed_lesson(subject="数学")
    rows = [
        (well_reviewed.id, 88, "submitted"),
        (well_reviewed.id, 92, "submitted"),
        (well_reviewed.id, 10, "draft"),  # not submitted: not counted
        (first_prize.id, 70, "submitted"),
        (other_pool.id, 100, "submitted"),
    ]
    async with rt.engine.begin() as conn:
        await conn.execute(
            stand_in.insert(),
            [{"lesson_id": i, "total_score": t, "status": s} for i, t, s in rows],
        )
    items = await ranking(client, tokens.admin(PROVINCE))
    got = [(i["lesson_id"], i["reviews"], i["review_mean"], i["total"]) for i in items]
    assert [(a, b, Decimal(str(c)) if c else c, Decimal(str(d))) for a, b, c, d in got] == [
        (str(well_reviewed.id), 2, Decimal(90), Decimal(100)),
        (str(first_prize.id), 1, Decimal(70), Decimal(90)),
        (str(unreviewed.id), 0, None, Decimal(0)),
    ]
