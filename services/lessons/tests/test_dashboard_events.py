"""Issue #18, the producer side of the dashboards: 晒课, 逐级遴选 and 观评课分配 (each school's
review load, per county) announced through the lessons outbox in the transaction that makes
them, and the resync that re-sends the current state. Real PostgreSQL and broker, as the other
lessons tests."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
from sqlalchemy import select

from lessons.allocation.models import Assignment
from lessons.resync.service import resync
from lessons.showcase.models import LessonPromotion
from yanxiu.testing import eventually

from .conftest import (
    JINAN,
    LIXIA_SCHOOL,
    LIXIA_SCHOOL_2,
    PROVINCE,
    RONGCHENG_SCHOOL,
    SHIZHONG_SCHOOL,
    YEAR,
    SeedLesson,
    Tokens,
    create_lesson,
    outbox_events,
    promote_to,
)
from .test_allocation import SCORES, _at_least, publish, registration
from .test_records_follow_the_teacher import transferred, until_member

SUBMITTED, PROMOTED = "lessons.lesson_submitted", "lessons.lesson_promoted"
ALLOCATED, REVIEWED, AWARDED = (
    "lessons.reviews_allocated",
    "lessons.review_submitted",
    "lessons.lesson_awarded",
)


def at(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


async def promotion_rows(client: httpx.AsyncClient, lesson_id: str) -> dict[str, datetime]:
    rt = client.app.state.runtime  # type: ignore[attr-defined]
    async with rt.session_factory() as session:
        rows = await session.execute(
            select(LessonPromotion.level, LessonPromotion.promoted_at).where(
                LessonPromotion.lesson_id == uuid.UUID(lesson_id)
            )
        )
        return {level: when for level, when in rows.all()}


async def test_creating_a_lesson_submits_it_once_with_its_school(
    client: httpx.AsyncClient, tokens: Tokens
) -> None:
    teacher = uuid.uuid4()
    lesson = await create_lesson(client, tokens, LIXIA_SCHOOL, teacher_id=teacher)
    [event] = await outbox_events(client, SUBMITTED)
    assert event["key"] == str(teacher)
    data = event["data"]
    assert data["lesson_id"] == lesson["id"] and data["teacher_id"] == str(teacher)
    assert (data["year"], data["stage"], data["subject"]) == (YEAR, "primary", "语文")
    assert data["lesson_title"] == lesson["title"]
    assert list(data["org"].values()) == LIXIA_SCHOOL
    assert at(data["submitted_at"]) == at(lesson["created_at"])
    assert await outbox_events(client, PROMOTED) == []  # created at teacher level: no selection


async def test_an_edit_of_title_or_subject_resends_the_submission_with_its_first_time(
    client: httpx.AsyncClient, tokens: Tokens
) -> None:
    teacher = uuid.uuid4()
    lesson = await create_lesson(client, tokens, LIXIA_SCHOOL, teacher_id=teacher)
    mine = tokens.teacher(LIXIA_SCHOOL, teacher)
    r = await client.patch(f"/lessons/{lesson['id']}", json={"subject": "数学"}, headers=mine)
    assert r.status_code == 200, r.text
    r = await client.patch(
        f"/lessons/{lesson['id']}", json={"video_url": "https://video.example/2.mp4"}, headers=mine
    )
    assert r.status_code == 200, r.text
    first, edited = await outbox_events(client, SUBMITTED)  # the video is not on the event
    assert (first["data"]["subject"], edited["data"]["subject"]) == ("语文", "数学")
    assert edited["data"]["submitted_at"] == first["data"]["submitted_at"]


async def test_each_selection_announces_one_promotion_with_the_rows_time(
    client: httpx.AsyncClient, tokens: Tokens
) -> None:
    lesson = await create_lesson(client, tokens, LIXIA_SCHOOL)
    await promote_to(client, tokens, lesson, "school")
    [school] = await outbox_events(client, PROMOTED)
    assert school["data"]["level"] == "school" and school["key"] == lesson["teacher_id"]
    await promote_to(client, tokens, {**lesson, "level": "school"}, "city")
    events = await outbox_events(client, PROMOTED)
    assert [e["data"]["level"] for e in events] == ["school", "county", "city"]
    rows = await promotion_rows(client, lesson["id"])
    assert {e["data"]["level"]: at(e["data"]["promoted_at"]) for e in events} == rows
    assert all(list(e["data"]["org"].values()) == LIXIA_SCHOOL for e in events)


async def test_provincial_selection_of_a_city_lesson_promotes_it_to_the_province_once(
    client: httpx.AsyncClient, tokens: Tokens, seed_lesson: SeedLesson
) -> None:
    lesson = await seed_lesson(level="city")
    r = await client.post(
        f"/lessons/{lesson.id}/provincial-selection", headers=tokens.admin(PROVINCE)
    )
    assert r.status_code == 201, r.text
    [event] = await outbox_events(client, PROMOTED)
    assert event["data"]["level"] == "province"
    rows = await promotion_rows(client, str(lesson.id))
    assert at(event["data"]["promoted_at"]) == rows["province"]
    assert len(await outbox_events(client, AWARDED)) == 1


async def allocate(
    client: httpx.AsyncClient, tokens: Tokens, project: uuid.UUID, seed: int = 3
) -> dict[str, Any]:
    r = await client.post(
        "/allocations",
        json={"project_id": str(project), "seed": seed},
        headers=tokens.admin(PROVINCE),
    )
    assert r.status_code == 201, r.text
    body: dict[str, Any] = r.json()
    return body


async def register(client: httpx.AsyncClient, project: uuid.UUID, *schools: list[str]) -> list[Any]:
    people = [registration(project, school) for school in schools]
    await publish(client, *people)
    await eventually(lambda: _at_least(client, project, len(people)), timeout=30)
    return people


async def assigned_at(client: httpx.AsyncClient, run_id: str) -> set[datetime]:
    rt = client.app.state.runtime  # type: ignore[attr-defined]
    async with rt.session_factory() as session:
        rows = await session.scalars(
            select(Assignment.assigned_at).where(Assignment.run_id == uuid.UUID(run_id))
        )
        return set(rows.all())


def loads(events: list[dict[str, Any]]) -> dict[str, dict[str, int]]:
    """county → {school: assignments}, of events that must each be one county's."""
    by_county = {e["data"]["county_id"]: e["data"]["schools"] for e in events}
    assert len(by_county) == len(events)
    return by_county


async def test_an_allocation_run_announces_each_countys_school_loads_once(
    client: httpx.AsyncClient, tokens: Tokens, seed_lesson: SeedLesson
) -> None:
    project = uuid.uuid4()
    await register(client, project, *[RONGCHENG_SCHOOL] * 3, *[LIXIA_SCHOOL_2] * 2)
    for _ in range(4):
        await seed_lesson(level="city", school=LIXIA_SCHOOL)
    run = await allocate(client, tokens, project)
    assert run["assignments"] == 15
    events = await outbox_events(client, ALLOCATED)
    assert loads(events) == {
        RONGCHENG_SCHOOL[2]: {RONGCHENG_SCHOOL[3]: 9},
        LIXIA_SCHOOL_2[2]: {LIXIA_SCHOOL_2[3]: 6},
    }
    [when] = await assigned_at(client, run["id"])
    for event in events:
        data = event["data"]
        assert event["key"] == data["county_id"]
        assert (data["project_id"], data["project_year"]) == (str(project), YEAR)
        place = RONGCHENG_SCHOOL if data["county_id"] == RONGCHENG_SCHOOL[2] else LIXIA_SCHOOL_2
        assert [data["province_id"], data["city_id"], data["county_id"]] == place[:3]
        assert at(data["allocated_at"]) == when


async def test_a_later_run_announces_the_totals_of_every_run_for_the_schools_it_served(
    client: httpx.AsyncClient, tokens: Tokens, seed_lesson: SeedLesson
) -> None:
    project = uuid.uuid4()
    await register(client, project, RONGCHENG_SCHOOL, RONGCHENG_SCHOOL, LIXIA_SCHOOL_2)
    for _ in range(4):
        await seed_lesson(level="city", school=LIXIA_SCHOOL)
    await allocate(client, tokens, project)
    first = await outbox_events(client, ALLOCATED)
    # Late registrants: one more at Rongcheng, one at a school of a county not served before.
    await publish(client, registration(project, RONGCHENG_SCHOOL))
    await publish(client, registration(project, SHIZHONG_SCHOOL))
    await eventually(lambda: _at_least(client, project, 5), timeout=30)
    await allocate(client, tokens, project, seed=4)
    later = (await outbox_events(client, ALLOCATED))[len(first) :]
    # Lixia's school had no one served by the later run: no event for its county.
    assert loads(later) == {
        RONGCHENG_SCHOOL[2]: {RONGCHENG_SCHOOL[3]: 9},
        SHIZHONG_SCHOOL[2]: {SHIZHONG_SCHOOL[3]: 3},
    }


async def test_a_transferred_reviewers_assignments_count_at_the_new_school_in_the_next_event(
    client: httpx.AsyncClient, tokens: Tokens, seed_lesson: SeedLesson
) -> None:
    project = uuid.uuid4()
    mover, _stayer = await register(client, project, RONGCHENG_SCHOOL, RONGCHENG_SCHOOL)
    for _ in range(4):
        await seed_lesson(level="city", school=LIXIA_SCHOOL)
    await allocate(client, tokens, project)
    [first] = await outbox_events(client, ALLOCATED)
    assert first["data"]["schools"] == {RONGCHENG_SCHOOL[3]: 6}
    await publish(client, transferred(mover.teacher_id, RONGCHENG_SCHOOL, LIXIA_SCHOOL_2))
    await until_member(client, project, mover.teacher_id, LIXIA_SCHOOL_2, "active")
    await publish(client, registration(project, RONGCHENG_SCHOOL))
    await publish(client, registration(project, LIXIA_SCHOOL_2))
    await eventually(lambda: _at_least(client, project, 4), timeout=30)
    await allocate(client, tokens, project, seed=4)
    later = (await outbox_events(client, ALLOCATED))[1:]
    # Each school: the mover's or the stayer's 3, and the newcomer's 3.
    assert loads(later) == {
        RONGCHENG_SCHOOL[2]: {RONGCHENG_SCHOOL[3]: 6},
        LIXIA_SCHOOL_2[2]: {LIXIA_SCHOOL_2[3]: 6},
    }


async def test_resync_resends_lessons_selections_assignments_counted_reviews_and_awards(
    client: httpx.AsyncClient, tokens: Tokens, seed_lesson: SeedLesson
) -> None:
    rt = client.app.state.runtime  # type: ignore[attr-defined]
    created = await create_lesson(client, tokens, LIXIA_SCHOOL)
    await promote_to(client, tokens, created, "city")
    r = await client.post(
        f"/lessons/{created['id']}/award", json={"award": "first"}, headers=tokens.admin(JINAN)
    )
    assert r.status_code == 201, r.text
    project, other_project = uuid.uuid4(), uuid.uuid4()
    people = await register(client, project, RONGCHENG_SCHOOL, RONGCHENG_SCHOOL)
    await register(client, project, LIXIA_SCHOOL, SHIZHONG_SCHOOL)
    await register(client, other_project, RONGCHENG_SCHOOL)
    for _ in range(2):
        await seed_lesson(level="city", school=LIXIA_SCHOOL_2)
    await allocate(client, tokens, project, seed=5)
    await allocate(client, tokens, other_project, seed=5)
    reviews = []
    for person in people:
        mine = tokens.teacher(RONGCHENG_SCHOOL, person.teacher_id)
        got = await client.get(
            "/assignments", params={"teacher_id": str(person.teacher_id)}, headers=mine
        )
        body = {"assignment_id": got.json()[0]["id"], "scores": SCORES, "comment": "教学设计扎实。"}
        made = await client.post("/reviews", json=body, headers=mine)
        assert made.status_code == 201, made.text
        reviews.append(made.json()["id"])
    revoked = await client.post(
        f"/reviews/{reviews[1]}/revoke", json={"reason": "雷同"}, headers=tokens.admin(PROVINCE)
    )
    assert revoked.status_code == 200, revoked.text
    before = {kind: await outbox_events(client, kind) for kind in _KINDS}

    done = await resync(rt.session_factory, since=None, page=2)  # several pages of each

    # 3 lessons (the created one, two seeded), 3 selections of the created one plus 2 × 3 of
    # the seeded ones, the loads of 3 counties of one project and one of the other (paged by
    # project and county), one review that counts, one award.
    assert (done.lessons, done.promotions, done.review_loads, done.reviews, done.awards) == (
        3,
        9,
        4,
        1,
        1,
    )
    after = {kind: await outbox_events(client, kind) for kind in _KINDS}
    resent = {kind: after[kind][len(before[kind]) :] for kind in _KINDS}
    assert [len(resent[k]) for k in _KINDS] == [3, 9, 4, 1, 1]
    # The facts the service announced come back the same (their own times), under new ids.
    for kind, key in _FACT_KEY.items():
        was = {_fact(e, key): e["data"] for e in before[kind]}
        for event in resent[kind]:
            if _fact(event, key) in was:
                assert event["data"] == _same(was[_fact(event, key)], kind)
        assert not {e["id"] for e in before[kind]} & {e["id"] for e in resent[kind]}
    assert {_fact(e, _FACT_KEY[ALLOCATED]) for e in resent[ALLOCATED]} == {
        _fact(e, _FACT_KEY[ALLOCATED]) for e in before[ALLOCATED]
    }
    # Rongcheng's two reviewers hold 3 each in the project, Lixia's one the 2 lessons of the
    # other school, Shizhong's one 3; the other project's Rongcheng reviewer 3.
    assert {
        (e["data"]["project_id"], e["data"]["county_id"]): e["data"]["schools"]
        for e in resent[ALLOCATED]
    } == {
        (str(project), RONGCHENG_SCHOOL[2]): {RONGCHENG_SCHOOL[3]: 6},
        (str(project), LIXIA_SCHOOL[2]): {LIXIA_SCHOOL[3]: 2},
        (str(project), SHIZHONG_SCHOOL[2]): {SHIZHONG_SCHOOL[3]: 3},
        (str(other_project), RONGCHENG_SCHOOL[2]): {RONGCHENG_SCHOOL[3]: 3},
    }
    assert [e["data"]["review_id"] for e in resent[REVIEWED]] == [reviews[0]]
    assert {e["data"]["lesson_id"] for e in resent[SUBMITTED]} >= {created["id"]}
    # With `since`: only counties given an assignment since then.
    tomorrow = datetime.now(UTC) + timedelta(days=1)
    assert (await resync(rt.session_factory, since=tomorrow)).review_loads == 0


_KINDS = (SUBMITTED, PROMOTED, ALLOCATED, REVIEWED, AWARDED)
_FACT_KEY = {
    SUBMITTED: ("lesson_id",),
    PROMOTED: ("lesson_id", "level"),
    ALLOCATED: ("project_id", "county_id"),
    REVIEWED: ("review_id",),
    AWARDED: ("award_id",),
}


def _fact(event: dict[str, Any], key: tuple[str, ...]) -> tuple[str, ...]:
    return tuple(event["data"][k] for k in key)


def _same(data: dict[str, Any], kind: str) -> dict[str, Any]:
    """The review's score reads back from NUMERIC(5,1) with its decimal place."""
    if kind == REVIEWED:
        return {**data, "total_score": f"{float(data['total_score']):.1f}"}
    return data
