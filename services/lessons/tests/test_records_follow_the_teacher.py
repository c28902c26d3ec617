"""Records follow the teacher (issue #14 point 2) in the review pools, through enrollment's events
on the real broker and database: a transferred reviewer is pooled from the new school (never
assigned that school's lessons, their assignments read by its admin); a departed one (离职) gets
no new assignments, even when a resync re-sends the registration, reviews and flags nothing,
and is read only from above the school they left, until a school takes them in."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any

import httpx
from sqlalchemy import select, text

from lessons.allocation.models import Assignment, Reviewer
from yanxiu.contracts.enrollment import (
    TeacherDeparted,
    TeacherRegistered,
    TeacherTransferred,
    TeacherUpdated,
    TeacherWithdrawn,
)
from yanxiu.contracts.envelope import Event, OrgPath
from yanxiu.testing import eventually

from .conftest import (
    LIXIA_SCHOOL,
    LIXIA_SCHOOL_2,
    PROVINCE,
    RONGCHENG_SCHOOL,
    SHIZHONG_SCHOOL,
    YEAR,
    SeedLesson,
    Tokens,
)
from .test_allocation import SCORES


def org(path: list[str]) -> OrgPath:
    return OrgPath(province_id=path[0], city_id=path[1], county_id=path[2], school_id=path[3])


def registration(project: uuid.UUID, school: list[str], teacher: uuid.UUID) -> TeacherRegistered:
    return TeacherRegistered(
        registration_id=uuid.uuid4(),
        project_id=project,
        project_year=YEAR,
        teacher_id=teacher,
        teacher_name="参训教师",
        stage="primary",
        subject="语文",
        is_rural=False,
        org=org(school),
        registered_at=datetime.now(UTC),
    )


def transferred(
    teacher: uuid.UUID, frm: list[str], to: list[str], *, from_pool: bool = False
) -> TeacherTransferred:
    return TeacherTransferred(
        teacher_id=teacher,
        from_org=org(frm),
        to_org=org(to),
        org=org(to),
        from_departed_pool=from_pool,
        stage="primary",
        subject="语文",
        transferred_at=datetime.now(UTC),
    )


def runtime(client: httpx.AsyncClient) -> Any:
    return client.app.state.runtime  # type: ignore[attr-defined]


async def publish(client: httpx.AsyncClient, *events: Event) -> list[uuid.UUID]:
    rt = runtime(client)
    await rt.producer_ready.wait()
    ids = []
    for event in events:
        env = event.envelope(producer="enrollment", trace_id="test")
        await rt.producer.send_and_wait(
            rt.settings.topic(event.TOPIC), env.model_dump_json().encode(), key=env.key.encode()
        )
        ids.append(env.id)
    return ids


async def handled(client: httpx.AsyncClient, event_id: uuid.UUID) -> bool:
    async with runtime(client).engine.connect() as conn:
        found = await conn.scalar(
            text("SELECT 1 FROM lessons.inbox WHERE event_id = :e"), {"e": event_id}
        )
    return found is not None


async def member(client: httpx.AsyncClient, project: uuid.UUID, teacher: uuid.UUID) -> Any:
    async with runtime(client).session_factory() as session:
        return await session.get(Reviewer, (project, teacher), populate_existing=True)


async def until_member(
    client: httpx.AsyncClient,
    project: uuid.UUID,
    teacher: uuid.UUID,
    school: list[str],
    status: str,
) -> None:
    async def there() -> bool:
        r = await member(client, project, teacher)
        return r is not None and (r.org_path, r.status) == (school, status)

    await eventually(there, timeout=30)


async def assigned(
    client: httpx.AsyncClient, project: uuid.UUID, teacher: uuid.UUID
) -> list[uuid.UUID]:
    async with runtime(client).session_factory() as session:
        stmt = select(Assignment.lesson_id).where(
            Assignment.project_id == project, Assignment.reviewer_id == teacher
        )
        return list((await session.scalars(stmt)).all())


async def allocate(client: httpx.AsyncClient, tokens: Tokens, project: uuid.UUID) -> None:
    r = await client.post(
        "/allocations", json={"project_id": str(project), "seed": 7}, headers=tokens.admin(PROVINCE)
    )
    assert r.status_code == 201, r.text


async def test_a_departed_teacher_gets_no_new_review_assignments_until_a_school_takes_them_in(
    client: httpx.AsyncClient, tokens: Tokens, seed_lesson: SeedLesson
) -> None:
    project = uuid.uuid4()
    leaver, stayer = uuid.uuid4(), uuid.uuid4()
    await publish(
        client,
        registration(project, RONGCHENG_SCHOOL, leaver),
        registration(project, RONGCHENG_SCHOOL, stayer),
    )
    await until_member(client, project, stayer, RONGCHENG_SCHOOL, "active")
    await until_member(client, project, leaver, RONGCHENG_SCHOOL, "active")
    for _ in range(4):
        await seed_lesson(level="city", school=LIXIA_SCHOOL_2)
    await publish(
        client,
        TeacherDeparted(
            teacher_id=leaver,
            org=org(RONGCHENG_SCHOOL),
            stage="primary",
            subject="语文",
            departed_at=datetime.now(UTC),
        ),
    )
    await until_member(client, project, leaver, RONGCHENG_SCHOOL, "departed")
    await allocate(client, tokens, project)
    assert len(await assigned(client, project, stayer)) == 3
    assert await assigned(client, project, leaver) == []

    # A resync re-sends the registration: still out of the pools.
    (again,) = await publish(client, registration(project, RONGCHENG_SCHOOL, leaver))
    await eventually(lambda: handled(client, again), timeout=30)
    assert (await member(client, project, leaver)).status == "departed"
    await allocate(client, tokens, project)
    assert await assigned(client, project, leaver) == []

    # Taken in from the departed pool by another school: back in the pools, from there.
    await publish(client, transferred(leaver, RONGCHENG_SCHOOL, SHIZHONG_SCHOOL, from_pool=True))
    await until_member(client, project, leaver, SHIZHONG_SCHOOL, "active")
    await allocate(client, tokens, project)
    assert len(await assigned(client, project, leaver)) == 3
    query = {"teacher_id": str(leaver)}
    r = await client.get("/assignments", params=query, headers=tokens.admin(SHIZHONG_SCHOOL))
    assert r.status_code == 200 and len(r.json()) == 3
    r = await client.get("/assignments", params=query, headers=tokens.admin(RONGCHENG_SCHOOL))
    assert r.json() == []


async def test_a_transferred_reviewer_is_pooled_from_the_new_school(
    client: httpx.AsyncClient, tokens: Tokens, seed_lesson: SeedLesson
) -> None:
    project = uuid.uuid4()
    teacher = uuid.uuid4()
    await publish(client, registration(project, RONGCHENG_SCHOOL, teacher))
    await until_member(client, project, teacher, RONGCHENG_SCHOOL, "active")
    elsewhere = {(await seed_lesson(level="city", school=LIXIA_SCHOOL)).id for _ in range(3)}
    for _ in range(3):
        await seed_lesson(level="city", school=LIXIA_SCHOOL_2)
    await publish(client, transferred(teacher, RONGCHENG_SCHOOL, LIXIA_SCHOOL_2))
    await until_member(client, project, teacher, LIXIA_SCHOOL_2, "active")
    await allocate(client, tokens, project)
    # Never a lesson of one's own school: the new school's, now.
    assert set(await assigned(client, project, teacher)) == elsewhere


def departed(teacher: uuid.UUID, school: list[str]) -> TeacherDeparted:
    return TeacherDeparted(
        teacher_id=teacher,
        org=org(school),
        stage="primary",
        subject="语文",
        departed_at=datetime.now(UTC),
    )


async def reviewer_with_assignments(
    client: httpx.AsyncClient, tokens: Tokens, seed_lesson: SeedLesson
) -> tuple[uuid.UUID, uuid.UUID, list[dict[str, Any]]]:
    """A reviewer of Rongcheng with three assignments (lessons of Lixia): project, teacher
    and the assignments as the teacher reads them."""
    project, teacher = uuid.uuid4(), uuid.uuid4()
    await publish(client, registration(project, RONGCHENG_SCHOOL, teacher))
    await until_member(client, project, teacher, RONGCHENG_SCHOOL, "active")
    for _ in range(3):
        await seed_lesson(level="city", school=LIXIA_SCHOOL)
    await allocate(client, tokens, project)
    own = tokens.teacher(RONGCHENG_SCHOOL, teacher)
    r = await client.get("/assignments", params={"teacher_id": str(teacher)}, headers=own)
    assert r.status_code == 200 and len(r.json()) == 3, r.text
    return project, teacher, r.json()


async def review_counts(client: httpx.AsyncClient, tokens: Tokens) -> dict[str, int]:
    r = await client.get(
        "/scores",
        params={"year": YEAR, "stage": "primary", "subject": "语文"},
        headers=tokens.admin(PROVINCE),
    )
    assert r.status_code == 200, r.text
    return {row["lesson_id"]: row["reviews"] for row in r.json()["items"]}


async def test_a_departed_reviewer_can_neither_review_nor_flag_and_nothing_new_counts_in_scores(
    client: httpx.AsyncClient, tokens: Tokens, seed_lesson: SeedLesson
) -> None:
    project, teacher, (first, second, third) = await reviewer_with_assignments(
        client, tokens, seed_lesson
    )
    own = tokens.teacher(RONGCHENG_SCHOOL, teacher)

    def review(assignment: dict[str, Any]) -> dict[str, Any]:
        return {"assignment_id": assignment["id"], "scores": SCORES, "comment": "目标清晰。"}

    r = await client.post("/reviews", json=review(first), headers=own)
    assert r.status_code == 201, r.text

    await publish(client, departed(teacher, RONGCHENG_SCHOOL))
    await until_member(client, project, teacher, RONGCHENG_SCHOOL, "departed")
    r = await client.post("/reviews", json=review(second), headers=own)
    assert (r.status_code, r.json()["code"]) == (409, "reviewer_departed")
    assert "离职" in r.json()["message_zh"] and "departed" in r.json()["message_en"]
    r = await client.post(
        f"/lessons/{third['lesson_id']}/flags", json={"reason": "疑似摆拍"}, headers=own
    )
    assert (r.status_code, r.json()["code"]) == (409, "reviewer_departed")
    # What was reviewed before the departure stands; nothing after it counts.
    counts = await review_counts(client, tokens)
    assert counts[first["lesson_id"]] == 1
    assert counts[second["lesson_id"]] == 0 and counts[third["lesson_id"]] == 0

    # Taken in by another school: the assignments are theirs to review again.
    await publish(client, transferred(teacher, RONGCHENG_SCHOOL, SHIZHONG_SCHOOL, from_pool=True))
    await until_member(client, project, teacher, SHIZHONG_SCHOOL, "active")
    r = await client.post("/reviews", json=review(second), headers=own)
    assert r.status_code == 201, r.text
    assert (await review_counts(client, tokens))[second["lesson_id"]] == 1


async def test_a_departed_reviewers_assignments_are_read_from_above_the_school_they_left(
    client: httpx.AsyncClient, tokens: Tokens, seed_lesson: SeedLesson
) -> None:
    project, teacher, _ = await reviewer_with_assignments(client, tokens, seed_lesson)
    await publish(client, departed(teacher, RONGCHENG_SCHOOL))
    await until_member(client, project, teacher, RONGCHENG_SCHOOL, "departed")
    query = {"teacher_id": str(teacher)}
    r = await client.get("/assignments", params=query, headers=tokens.admin(RONGCHENG_SCHOOL))
    assert (r.status_code, r.json()["code"]) == (404, "reviewer_not_found")
    for above in (RONGCHENG_SCHOOL[:3], RONGCHENG_SCHOOL[:2], PROVINCE):
        r = await client.get("/assignments", params=query, headers=tokens.admin(above))
        assert r.status_code == 200 and len(r.json()) == 3, above
    own = tokens.teacher(RONGCHENG_SCHOOL, teacher)
    assert len((await client.get("/assignments", params=query, headers=own)).json()) == 3
    # Another school's admin: an empty list, as for any reviewer outside its subtree.
    r = await client.get("/assignments", params=query, headers=tokens.admin(LIXIA_SCHOOL))
    assert (r.status_code, r.json()) == (200, [])


def teacher_record(teacher: uuid.UUID, school: list[str], status: str) -> TeacherUpdated:
    return TeacherUpdated(
        teacher_id=teacher,
        teacher_name="参训教师",
        changed_fields=[],
        stage="primary",
        subject="语文",
        is_rural=False,
        status=status,  # type: ignore[arg-type]
        verified=True,
        org=org(school),
        updated_at=datetime.now(UTC),
    )


async def test_a_resent_teacher_record_repairs_a_member_that_missed_a_move_and_a_departure(
    client: httpx.AsyncClient,
) -> None:
    """What a resync or a reconciliation repair sends: the record as it stands now."""
    project = uuid.uuid4()
    teacher = uuid.uuid4()
    await publish(client, registration(project, RONGCHENG_SCHOOL, teacher))
    await until_member(client, project, teacher, RONGCHENG_SCHOOL, "active")
    await publish(client, teacher_record(teacher, LIXIA_SCHOOL_2, "departed"))
    await until_member(client, project, teacher, LIXIA_SCHOOL_2, "departed")
    await publish(client, teacher_record(teacher, LIXIA_SCHOOL, "active"))
    await until_member(client, project, teacher, LIXIA_SCHOOL, "active")


async def test_a_withdrawn_reviewer_neither_reviews_nor_flags_in_that_project(
    client: httpx.AsyncClient, tokens: Tokens, seed_lesson: SeedLesson
) -> None:
    """退出项目: learning would never credit the review; the lesson's scores must not take it."""
    project, teacher, (first, second, _) = await reviewer_with_assignments(
        client, tokens, seed_lesson
    )
    own = tokens.teacher(RONGCHENG_SCHOOL, teacher)
    withdrawn = TeacherWithdrawn(
        registration_id=uuid.uuid4(),
        project_id=project,
        teacher_id=teacher,
        org=org(RONGCHENG_SCHOOL),
        withdrawn_at=datetime.now(UTC),
    )
    await publish(client, withdrawn)
    await until_member(client, project, teacher, RONGCHENG_SCHOOL, "withdrawn")
    body = {"assignment_id": first["id"], "scores": SCORES, "comment": "目标清晰。"}
    r = await client.post("/reviews", json=body, headers=own)
    assert (r.status_code, r.json()["code"]) == (409, "reviewer_withdrawn")
    r = await client.post(
        f"/lessons/{second['lesson_id']}/flags", json={"reason": "疑似摆拍"}, headers=own
    )
    assert (r.status_code, r.json()["code"]) == (409, "reviewer_withdrawn")
    assert (await review_counts(client, tokens))[first["lesson_id"]] == 0
