"""观评课 end to end on the real database and broker: pools from enrollment's events, a seeded
allocation run, late registrants, reviews once with their events, revocation and flags."""

from __future__ import annotations

import uuid
from collections import Counter
from datetime import UTC, datetime
from typing import Any

import httpx
from sqlalchemy import func, select

from lessons.allocation.models import Assignment, Reviewer
from lessons.reviews.service import lesson_review_totals
from yanxiu.contracts.enrollment import TeacherRegistered
from yanxiu.contracts.envelope import OrgPath
from yanxiu.testing import eventually

from .conftest import LIXIA_SCHOOL, LIXIA_SCHOOL_2, RONGCHENG_SCHOOL, YEAR, Tokens, outbox_events

SCORES = {"objectives": 18, "content": 22, "methods": 20, "effect": 17, "technology": 9}
PROVINCE = ["370000"]


def registration(project: uuid.UUID, school: list[str], subject: str = "语文") -> TeacherRegistered:
    return TeacherRegistered(
        registration_id=uuid.uuid4(),
        project_id=project,
        project_year=YEAR,
        teacher_id=uuid.uuid4(),
        teacher_name="参训教师",
        stage="primary",
        subject=subject,
        is_rural=False,
        org=OrgPath(
            province_id=school[0], city_id=school[1], county_id=school[2], school_id=school[3]
        ),
        registered_at=datetime.now(UTC),
    )


async def publish(client: httpx.AsyncClient, *events: TeacherRegistered) -> None:
    rt = client.app.state.runtime  # type: ignore[attr-defined]
    await rt.producer_ready.wait()
    for event in events:
        env = event.envelope(producer="enrollment", trace_id="test")
        await rt.producer.send_and_wait(
            rt.settings.topic(event.TOPIC), env.model_dump_json().encode(), key=env.key.encode()
        )


async def reviewers_in(client: httpx.AsyncClient, project: uuid.UUID) -> int:
    rt = client.app.state.runtime  # type: ignore[attr-defined]
    async with rt.session_factory() as session:
        stmt = select(func.count()).where(Reviewer.project_id == project)
        return int(await session.scalar(stmt) or 0)


async def assignments(client: httpx.AsyncClient, project: uuid.UUID) -> list[Any]:
    rt = client.app.state.runtime  # type: ignore[attr-defined]
    async with rt.session_factory() as session:
        stmt = select(Assignment.reviewer_id, Assignment.lesson_id, Assignment.run_id).where(
            Assignment.project_id == project
        )
        return list((await session.execute(stmt)).all())


async def test_registered_teachers_get_three_city_lessons_of_their_pool_balanced(
    client: httpx.AsyncClient, tokens: Tokens, seed_lesson: Any
) -> None:
    project = uuid.uuid4()
    people = [registration(project, LIXIA_SCHOOL) for _ in range(4)]
    people += [registration(project, RONGCHENG_SCHOOL) for _ in range(4)]
    people += [registration(project, LIXIA_SCHOOL_2, subject="数学")]
    await publish(client, *people)
    await eventually(lambda: _at_least(client, project, len(people)), timeout=30)
    chinese = [await seed_lesson(level="city", school=LIXIA_SCHOOL_2) for _ in range(4)]
    chinese.append(
        await seed_lesson(level="city", school=LIXIA_SCHOOL, teacher_id=people[0].teacher_id)
    )
    await seed_lesson(level="county", school=LIXIA_SCHOOL_2)  # not city-level: not in review
    r = await client.post(
        "/allocations",
        json={"project_id": str(project), "seed": 42},
        headers=tokens.admin(PROVINCE),
    )
    assert r.status_code == 201, r.text
    run = r.json()
    pools = {(p["stage"], p["subject"]): p for p in run["summary"]["pools"]}
    assert pools[("primary", "语文")]["spread"] <= 1
    assert pools[("primary", "数学")]["short_reviewers"] == 1  # a pool without lessons
    read = await client.get(f"/allocations/{run['id']}", headers=tokens.admin(PROVINCE))
    assert read.status_code == 200 and read.json() == run  # read back as written
    rows = await assignments(client, project)
    per_teacher = Counter(reviewer for reviewer, _, _ in rows)
    assert all(per_teacher[p.teacher_id] == 3 for p in people if p.subject == "语文")
    own = {(people[0].teacher_id, chinese[-1].id)}
    assert not own & {(a, b) for a, b, _ in rows}  # never one's own lesson
    lixia = {p.teacher_id for p in people if p.org.school_id == LIXIA_SCHOOL[3]}
    assert not any(b == chinese[-1].id and a in lixia for a, b, _ in rows)  # nor own school's
    mine = await client.get(
        "/assignments",
        params={"teacher_id": str(people[5].teacher_id)},
        headers=tokens.teacher(RONGCHENG_SCHOOL, people[5].teacher_id),
    )
    assert mine.status_code == 200 and len(mine.json()) == 3
    others = await client.get(
        "/assignments",
        params={"teacher_id": str(people[5].teacher_id)},
        headers=tokens.teacher(RONGCHENG_SCHOOL),
    )
    assert others.json() == []
    # Late registrants: a second run serves only them and moves nothing made before.
    late = [registration(project, RONGCHENG_SCHOOL) for _ in range(3)]
    await publish(client, *late)
    await eventually(lambda: _at_least(client, project, len(people) + 3), timeout=30)
    again = await client.post(
        "/allocations", json={"project_id": str(project), "seed": 7}, headers=tokens.admin(PROVINCE)
    )
    assert again.status_code == 201
    after = await assignments(client, project)
    assert set(rows) <= set(after)
    assert {a for a, _, run_id in after if run_id == uuid.UUID(again.json()["id"])} == {
        p.teacher_id for p in late
    }


async def _at_least(client: httpx.AsyncClient, project: uuid.UUID, n: int) -> bool:
    return await reviewers_in(client, project) >= n


async def test_only_the_province_runs_an_allocation(
    client: httpx.AsyncClient, tokens: Tokens
) -> None:
    r = await client.post(
        "/allocations",
        json={"project_id": str(uuid.uuid4())},
        headers=tokens.admin(LIXIA_SCHOOL[:2]),
    )
    assert r.status_code == 403
    r = await client.post(
        "/allocations", json={"project_id": str(uuid.uuid4())}, headers=tokens.admin(PROVINCE)
    )
    assert r.status_code == 422 and r.json()["code"] == "no_reviewers"


async def test_a_review_is_submitted_once_by_its_reviewer_and_emits_one_event(
    client: httpx.AsyncClient, tokens: Tokens, seed_lesson: Any
) -> None:
    project = uuid.uuid4()
    me = registration(project, RONGCHENG_SCHOOL)
    await publish(client, me)
    await eventually(lambda: _at_least(client, project, 1), timeout=30)
    for _ in range(3):
        await seed_lesson(level="city", school=LIXIA_SCHOOL)
    r = await client.post(
        "/allocations", json={"project_id": str(project), "seed": 1}, headers=tokens.admin(PROVINCE)
    )
    assert r.status_code == 201
    mine = tokens.teacher(RONGCHENG_SCHOOL, me.teacher_id)
    got = (
        await client.get("/assignments", params={"teacher_id": str(me.teacher_id)}, headers=mine)
    ).json()
    body = {"assignment_id": got[0]["id"], "scores": SCORES, "comment": "教学目标清晰，互动充分。"}
    stranger = await client.post("/reviews", json=body, headers=tokens.teacher(RONGCHENG_SCHOOL))
    assert stranger.status_code == 404
    bad = await client.post(
        "/reviews", json={**body, "scores": {**SCORES, "technology": 11}}, headers=mine
    )
    assert bad.status_code == 422 and bad.json()["code"] == "rubric_invalid"
    r = await client.post("/reviews", json=body, headers=mine)
    assert r.status_code == 201, r.text
    assert r.json()["total_score"] == "86"
    twice = await client.post("/reviews", json=body, headers=mine)
    assert twice.status_code == 409 and twice.json()["code"] == "already_reviewed"
    events = await outbox_events(client, "lessons.review_submitted")
    assert len(events) == 1 and events[0]["data"]["assignment_id"] == got[0]["id"]
    assert events[0]["data"]["org"]["school_id"] == RONGCHENG_SCHOOL[3]
    # Flags: only on an assigned lesson, once.
    lesson = got[0]["lesson_id"]
    flag = {"reason": "疑似摆拍表演课"}
    assert (
        await client.post(f"/lessons/{lesson}/flags", json=flag, headers=mine)
    ).status_code == 201
    assert (
        await client.post(f"/lessons/{lesson}/flags", json=flag, headers=mine)
    ).status_code == 409
    rt = client.app.state.runtime  # type: ignore[attr-defined]
    async with rt.session_factory() as session:
        totals = await lesson_review_totals(session, lesson_ids=[uuid.UUID(lesson)])
    assert totals[uuid.UUID(lesson)].reviews == 1 and totals[uuid.UUID(lesson)].flags == 1
    # Revocation by the lesson's city (or the province), with a reason and an event.
    review_id = r.json()["id"]
    wrong_city = await client.post(
        f"/reviews/{review_id}/revoke",
        json={"reason": "雷同"},
        headers=tokens.admin(RONGCHENG_SCHOOL[:2]),
    )
    assert wrong_city.status_code == 404
    ok = await client.post(
        f"/reviews/{review_id}/revoke",
        json={"reason": "评语雷同"},
        headers=tokens.admin(LIXIA_SCHOOL[:2]),
    )
    assert ok.status_code == 200 and ok.json()["status"] == "revoked"
    assert len(await outbox_events(client, "lessons.review_revoked")) == 1
