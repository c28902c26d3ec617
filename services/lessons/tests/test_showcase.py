"""创课 and 逐级遴选: a teacher creates, each level selects upward; the county-and-city rule for
the province; local curricula showcase only; one lesson per city per lesson; one per teacher."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta

import httpx
import pytest
from sqlalchemy import update
from sqlalchemy.exc import IntegrityError

from lessons.config import Settings
from lessons.main import create_app
from lessons.models import Lesson
from lessons.showcase.rules import load_rules
from services.lessons.tests.conftest import (
    JINAN,
    LIXIA,
    LIXIA_SCHOOL,
    LIXIA_SCHOOL_2,
    PROVINCE,
    RONGCHENG_SCHOOL,
    SHIZHONG_SCHOOL,
    YEAR,
    SeedLesson,
    Tokens,
    create_lesson,
    lesson_body,
    promote,
    promote_to,
)
from yanxiu.testing import app_client


async def test_teacher_creates_a_lesson_at_their_own_school(
    client: httpx.AsyncClient, tokens: Tokens
) -> None:
    teacher = uuid.uuid4()
    lesson = await create_lesson(client, tokens, LIXIA_SCHOOL, teacher_id=teacher)
    assert lesson["teacher_id"] == str(teacher)
    assert lesson["school_id"] == "370102-S001" and lesson["city_id"] == "370100"
    assert lesson["level"] == "teacher" and lesson["track"] == "competition"
    assert lesson["title"] == "第一单元 大青树下的小学"

    r = await client.get(f"/lessons/{lesson['id']}", headers=tokens.teacher(LIXIA_SCHOOL, teacher))
    assert r.status_code == 200 and r.json()["id"] == lesson["id"]


async def test_only_a_teacher_creates_lessons(client: httpx.AsyncClient, tokens: Tokens) -> None:
    r = await client.post("/lessons", json=lesson_body(), headers=tokens.admin(LIXIA_SCHOOL))
    assert r.status_code == 403 and r.json()["code"] == "not_a_teacher"


async def test_bad_lesson_input_is_a_422_naming_the_field(
    client: httpx.AsyncClient, tokens: Tokens
) -> None:
    body = lesson_body(video_url="ftp://x", stage="college")
    r = await client.post("/lessons", json=body, headers=tokens.teacher(LIXIA_SCHOOL))
    assert r.status_code == 422
    fields = {e["field"] for e in r.json()["errors"]}
    assert {"video_url", "stage"} <= fields


async def test_lessons_are_seen_by_their_teacher_and_admins_above_only(
    client: httpx.AsyncClient, tokens: Tokens
) -> None:
    lesson = await create_lesson(client, tokens, LIXIA_SCHOOL)
    path = f"/lessons/{lesson['id']}"
    for outsider in (
        tokens.teacher(LIXIA_SCHOOL),  # another teacher of the same school
        tokens.admin(RONGCHENG_SCHOOL[:2]),  # another city
        tokens.admin(SHIZHONG_SCHOOL[:3]),  # another county of the same city
    ):
        r = await client.get(path, headers=outsider)
        assert r.status_code == 404 and r.json()["code"] == "lesson_not_found"
    for admin in (LIXIA_SCHOOL, LIXIA, JINAN, PROVINCE):
        assert (await client.get(path, headers=tokens.admin(admin))).status_code == 200


async def test_lesson_list_is_scoped_filtered_and_cursor_paginated(
    client: httpx.AsyncClient, tokens: Tokens, seed_lesson: SeedLesson
) -> None:
    for _ in range(5):
        await seed_lesson(level="school", school=LIXIA_SCHOOL)
    await seed_lesson(level="school", school=LIXIA_SCHOOL, subject="数学")
    await seed_lesson(level="school", school=RONGCHENG_SCHOOL)
    seen: list[str] = []
    cursor = None
    while True:
        params: dict[str, str | int] = {"subject": "语文", "limit": 2}
        if cursor:
            params["cursor"] = cursor
        r = await client.get("/lessons", params=params, headers=tokens.admin(JINAN))
        assert r.status_code == 200, r.text
        seen += [item["id"] for item in r.json()["items"]]
        cursor = r.json()["next_cursor"]
        if cursor is None:
            break
    assert len(seen) == len(set(seen)) == 5
    r = await client.get("/lessons", headers=tokens.admin(RONGCHENG_SCHOOL[:2]))
    assert len(r.json()["items"]) == 1
    r = await client.get("/lessons", params={"cursor": "!!"}, headers=tokens.admin(JINAN))
    assert r.status_code == 422 and r.json()["code"] == "invalid_cursor"


async def test_teacher_lists_only_their_own_lessons(
    client: httpx.AsyncClient, tokens: Tokens, seed_lesson: SeedLesson
) -> None:
    teacher = uuid.uuid4()
    mine = await seed_lesson(level="teacher", teacher_id=teacher)
    await seed_lesson(level="teacher")
    r = await client.get("/lessons", headers=tokens.teacher(LIXIA_SCHOOL, teacher))
    assert [i["id"] for i in r.json()["items"]] == [str(mine.id)]


async def test_promotion_chain_goes_school_county_city_province(
    client: httpx.AsyncClient, tokens: Tokens
) -> None:
    lesson = await create_lesson(client, tokens)
    for level in ("school", "county", "city", "province"):
        r = await promote(client, tokens, lesson, level)
        assert r.status_code == 200, r.text
        assert r.json()["level"] == level
    r = await client.get(f"/lessons/{lesson['id']}/promotions", headers=tokens.admin(LIXIA))
    assert [(p["level"], p["org_id"]) for p in r.json()["items"]] == [
        ("school", "370102-S001"),
        ("county", "370102"),
        ("city", "370100"),
        ("province", "370000"),
    ]
    r = await client.get("/lessons", params={"level": "province"}, headers=tokens.admin(PROVINCE))
    assert [i["id"] for i in r.json()["items"]] == [lesson["id"]]


async def test_a_level_cannot_be_skipped(client: httpx.AsyncClient, tokens: Tokens) -> None:
    lesson = await create_lesson(client, tokens)
    r = await promote(client, tokens, lesson, "county")
    assert r.status_code == 409 and r.json()["code"] == "promotion_out_of_order"
    assert "逐级" in r.json()["message_zh"]


async def test_only_the_admin_of_the_level_promotes_to_it(
    client: httpx.AsyncClient, tokens: Tokens
) -> None:
    lesson = await create_lesson(client, tokens)
    r = await client.post(
        f"/lessons/{lesson['id']}/promotions",
        json={"level": "school"},
        headers=tokens.admin(LIXIA),  # a county admin cannot act as the school
    )
    assert r.status_code == 403 and r.json()["code"] == "wrong_level_admin"
    other_school = tokens.admin(LIXIA_SCHOOL_2)
    r = await client.post(
        f"/lessons/{lesson['id']}/promotions", json={"level": "school"}, headers=other_school
    )
    assert r.status_code == 404  # out of scope: not even told it exists


async def test_province_needs_selection_by_both_county_and_city(
    client: httpx.AsyncClient, tokens: Tokens
) -> None:
    lesson = await create_lesson(client, tokens)
    await promote_to(client, tokens, lesson, "county")
    r = await promote(client, tokens, lesson, "province")
    assert r.status_code == 409
    assert r.json()["code"] == "not_selected_by_county_and_city"
    r = await client.post(
        f"/lessons/{lesson['id']}/provincial-selection", headers=tokens.admin(PROVINCE)
    )
    assert r.status_code == 409 and r.json()["code"] == "not_selected_by_county_and_city"


async def test_province_rule_reads_the_selections_not_just_the_level(
    client: httpx.AsyncClient, tokens: Tokens, seed_lesson: SeedLesson
) -> None:
    # A lesson marked city-level without county and city selections (e.g. a bad import).
    lesson = await seed_lesson(level="school")
    rt = client.app.state.runtime  # type: ignore[attr-defined]
    async with rt.session_factory() as session, session.begin():
        await session.execute(update(Lesson).where(Lesson.id == lesson.id).values(level="city"))
    r = await client.post(
        f"/lessons/{lesson.id}/promotions",
        json={"level": "province"},
        headers=tokens.admin(PROVINCE),
    )
    assert r.status_code == 409 and r.json()["code"] == "not_selected_by_county_and_city"


async def test_local_curriculum_cannot_enter_the_competition(
    client: httpx.AsyncClient, tokens: Tokens
) -> None:
    body = lesson_body(curriculum="local", track="competition")
    r = await client.post("/lessons", json=body, headers=tokens.teacher(LIXIA_SCHOOL))
    assert r.status_code == 422 and r.json()["code"] == "local_curriculum_showcase_only"


async def test_local_and_school_curricula_reach_the_provincial_showcase_only(
    client: httpx.AsyncClient, tokens: Tokens
) -> None:
    for curriculum, school in (("local", LIXIA_SCHOOL), ("school", LIXIA_SCHOOL_2)):
        lesson = await create_lesson(
            client, tokens, school, curriculum=curriculum, title=f"{curriculum} 家乡的山"
        )
        assert lesson["track"] == "showcase"
        lesson = await promote_to(client, tokens, lesson, "city")
        r = await client.post(
            f"/lessons/{lesson['id']}/award", json={"award": "first"}, headers=tokens.admin(JINAN)
        )
        assert r.status_code == 422 and r.json()["code"] == "local_curriculum_showcase_only"
        r = await client.post(
            f"/lessons/{lesson['id']}/provincial-selection", headers=tokens.admin(PROVINCE)
        )
        assert r.status_code == 422 and r.json()["code"] == "local_curriculum_showcase_only"
        shown = await promote_to(client, tokens, lesson, "province")  # 省级晒课
        assert shown["level"] == "province" and shown["provincial"] is False


async def test_one_lesson_per_city_per_grade_subject_version_and_lesson(
    client: httpx.AsyncClient, tokens: Tokens
) -> None:
    first = await create_lesson(client, tokens, LIXIA_SCHOOL)
    twin = await create_lesson(client, tokens, SHIZHONG_SCHOOL, title=" 第一单元  大青树下的小学 ")
    other_city = await create_lesson(client, tokens, RONGCHENG_SCHOOL)
    other_version = await create_lesson(client, tokens, LIXIA_SCHOOL_2, textbook_version="人教版")
    await promote_to(client, tokens, first, "city")
    await promote_to(client, tokens, twin, "county")
    r = await promote(client, tokens, twin, "city")
    assert r.status_code == 409 and r.json()["code"] == "city_lesson_taken"
    assert "每市每堂课限推1个" in r.json()["message_zh"]
    assert (await promote_to(client, tokens, other_city, "city"))["level"] == "city"
    assert (await promote_to(client, tokens, other_version, "city"))["level"] == "city"


async def test_city_uniqueness_is_a_database_constraint(
    client: httpx.AsyncClient, seed_lesson: SeedLesson
) -> None:
    await seed_lesson(level="city", title="同一课")
    with pytest.raises(IntegrityError, match="uq_lessons_city_lesson"):
        await seed_lesson(level="city", title="同一课", school=SHIZHONG_SCHOOL)


async def test_each_teacher_recommends_one_lesson_a_year(
    client: httpx.AsyncClient, tokens: Tokens
) -> None:
    teacher = uuid.uuid4()
    first = await create_lesson(client, tokens, teacher_id=teacher, title="第一课")
    second = await create_lesson(client, tokens, teacher_id=teacher, title="第二课")
    next_year = await create_lesson(
        client, tokens, teacher_id=teacher, title="第三课", year=YEAR + 1
    )
    assert (await promote(client, tokens, first, "school")).status_code == 200
    r = await promote(client, tokens, second, "school")
    assert r.status_code == 409 and r.json()["code"] == "teacher_lesson_taken"
    assert "每位教师限推1个" in r.json()["message_zh"]
    assert (await promote(client, tokens, next_year, "school")).status_code == 200


async def test_one_recommended_lesson_per_teacher_is_a_database_constraint(
    client: httpx.AsyncClient, seed_lesson: SeedLesson
) -> None:
    teacher = uuid.uuid4()
    await seed_lesson(level="teacher", teacher_id=teacher)  # created, not recommended: fine
    await seed_lesson(level="school", teacher_id=teacher)
    with pytest.raises(IntegrityError, match="uq_lessons_teacher_year"):
        await seed_lesson(level="county", teacher_id=teacher)


async def test_city_cannot_select_city_level_lessons_after_the_deadline(
    lessons_settings: Callable[..., Settings], tokens: Tokens
) -> None:
    yesterday = date.today() - timedelta(days=2)
    app = create_app(lessons_settings(city_level_deadlines={YEAR: yesterday}))
    async with app_client(app) as client:
        lesson = await create_lesson(client, tokens)
        await promote_to(client, tokens, lesson, "county")  # below the city: no deadline
        r = await promote(client, tokens, lesson, "city")
        assert r.status_code == 409 and r.json()["code"] == "city_deadline_passed"


def test_shipped_deadlines_are_the_notices_dates() -> None:
    rules = load_rules()
    assert rules.city_deadline(2023) == date(2023, 9, 27)
    assert rules.city_deadline(2020) == date(2020, 11, 15)
    # Inclusive, in Asia/Shanghai: 09-27 23:30 Beijing is still open, 09-28 00:10 is not.
    assert rules.city_level_open(2023, datetime(2023, 9, 27, 15, 30, tzinfo=UTC))
    assert not rules.city_level_open(2023, datetime(2023, 9, 27, 16, 10, tzinfo=UTC))


async def test_concurrent_twins_at_city_level_leave_exactly_one(
    client: httpx.AsyncClient, tokens: Tokens
) -> None:
    twins = [
        await create_lesson(client, tokens, school, title="同一堂课")
        for school in (LIXIA_SCHOOL, LIXIA_SCHOOL_2, SHIZHONG_SCHOOL)
    ]
    twins = [await promote_to(client, tokens, twin, "county") for twin in twins]
    results = await asyncio.gather(*(promote(client, tokens, twin, "city") for twin in twins))
    assert sorted(r.status_code for r in results) == [200, 409, 409]
    assert {r.json()["code"] for r in results if r.status_code == 409} == {"city_lesson_taken"}


async def test_creating_a_lesson_is_retry_safe_with_an_idempotency_key(
    client: httpx.AsyncClient, tokens: Tokens
) -> None:
    teacher = uuid.uuid4()
    headers = {**tokens.teacher(LIXIA_SCHOOL, teacher), "Idempotency-Key": "create-1"}
    first = await client.post("/lessons", json=lesson_body(), headers=headers)
    again = await client.post("/lessons", json=lesson_body(), headers=headers)
    assert first.status_code == again.status_code == 201
    assert first.json()["id"] == again.json()["id"]
    assert again.headers.get("Idempotent-Replayed") == "true"


async def test_content_is_locked_once_the_school_selects_the_lesson(
    client: httpx.AsyncClient, tokens: Tokens
) -> None:
    teacher = uuid.uuid4()
    lesson = await create_lesson(client, tokens, teacher_id=teacher)
    mine = tokens.teacher(LIXIA_SCHOOL, teacher)
    r = await client.patch(f"/lessons/{lesson['id']}", json={"title": "改后的课题"}, headers=mine)
    assert r.status_code == 200 and r.json()["title"] == "改后的课题"
    await promote(client, tokens, lesson, "school")
    r = await client.patch(f"/lessons/{lesson['id']}", json={"title": "再改"}, headers=mine)
    assert r.status_code == 409 and r.json()["code"] == "lesson_locked"
    # The national platform number arrives later: the teacher or an admin above fills it in.
    r = await client.patch(
        f"/lessons/{lesson['id']}",
        json={"national_platform_no": "GJ-2024-0001"},
        headers=tokens.admin(JINAN),
    )
    assert r.status_code == 200 and r.json()["national_platform_no"] == "GJ-2024-0001"
    r = await client.patch(
        f"/lessons/{lesson['id']}",
        json={"national_platform_no": "X"},
        headers=tokens.teacher(LIXIA_SCHOOL),  # another teacher
    )
    assert r.status_code == 404
