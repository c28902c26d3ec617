"""Records follow the teacher (issue #14 point 2), through enrollment's events on the real broker
and database.

- 调动: a transfer places the plan, its course progress, later refusal counts and later
  completions at the new school; the new school's topics govern new selections, earlier ones
  stay (flagged when outside the new school's topics) and count once completed; the old
  school's admin loses the plan, the new one reads it, the teacher always reads their own.
- 离职: a departure suspends the plan at the school the teacher left: no selection, heartbeat,
  assessment or completion counts (409 plan_departed), the school's admin no longer reads it,
  the county and city above still do; a take-in from the departed pool resumes it at the new
  school with its hours and progress intact.
- Re-sent facts (a resync) never resume a departed plan, and repair one that missed a move."""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest
from sqlalchemy import select, text

from learning.attainment.service import record_completion
from learning.errors import PlanDeparted
from learning.models import Plan
from learning.progress.models import CourseProgress
from services.learning.tests.conftest import OTHER_SCHOOL, SCHOOL, LearningWorld, SeededTeacher
from services.learning.tests.test_progress_support import (
    LIXIA,
    RONGCHENG,
    Learning,
    beat,
    post,
    progress_of,
    px,
    watch,
)
from services.learning.tests.test_reviews import submitted
from yanxiu.contracts.enrollment import (
    TeacherDeparted,
    TeacherRegistered,
    TeacherTransferred,
    TeacherUpdated,
)
from yanxiu.contracts.envelope import Event, OrgPath
from yanxiu.testing import eventually

__all__ = ["px"]  # the progress fixture, imported for pytest to find


def org(path: list[str]) -> OrgPath:
    return OrgPath(province_id=path[0], city_id=path[1], county_id=path[2], school_id=path[3])


async def publish(rt: Any, *events: Event) -> list[uuid.UUID]:
    """Send the events as enrollment would; returns their envelope ids."""
    await rt.producer_ready.wait()
    ids = []
    for event in events:
        env = event.envelope(producer="enrollment", trace_id="test")
        await rt.producer.send_and_wait(
            rt.settings.topic(event.TOPIC), env.model_dump_json().encode(), key=env.key.encode()
        )
        ids.append(env.id)
    return ids


async def handled(rt: Any, event_id: uuid.UUID) -> bool:
    async with rt.engine.connect() as conn:
        found = await conn.scalar(
            text("SELECT 1 FROM learning.inbox WHERE event_id = :e"), {"e": event_id}
        )
    return found is not None


async def plan_of(rt: Any, teacher_id: uuid.UUID) -> Plan:
    async with rt.session_factory() as session:
        return (await session.scalars(select(Plan).where(Plan.teacher_id == teacher_id))).one()


async def until_plan(rt: Any, teacher_id: uuid.UUID, school: list[str], status: str) -> Plan:
    async def there() -> Plan | None:
        plan = await plan_of(rt, teacher_id)
        return plan if (plan.org_path, plan.status) == (school, status) else None

    found: Plan = await eventually(there)
    return found


def transferred(
    teacher_id: uuid.UUID, frm: list[str], to: list[str], *, from_pool: bool = False
) -> TeacherTransferred:
    return TeacherTransferred(
        teacher_id=teacher_id,
        from_org=org(frm),
        to_org=org(to),
        org=org(to),
        from_departed_pool=from_pool,
        stage="primary",
        subject="语文",
        transferred_at=datetime.now(UTC),
    )


def departed(teacher_id: uuid.UUID, at: list[str]) -> TeacherDeparted:
    return TeacherDeparted(
        teacher_id=teacher_id,
        org=org(at),
        stage="primary",
        subject="语文",
        departed_at=datetime.now(UTC),
    )


async def reads(client: httpx.AsyncClient, token: str, teacher_id: uuid.UUID) -> list[int]:
    """Status of each read of the teacher's plan and progress by the token's holder."""
    headers = {"Authorization": f"Bearer {token}"}
    return [
        (await client.get(url, headers=headers)).status_code
        for url in (
            f"/plans/{teacher_id}",
            f"/plans/{teacher_id}/progress",
            f"/progress/{teacher_id}",
        )
    ]


async def refusals(px: Learning, token: str) -> dict[str, int]:
    r = await px.client.get("/progress/refusals", headers=px.auth(token))
    assert r.status_code == 200, r.text
    return {i["school_id"]: i["total"] for i in r.json()["items"]}


async def complete(rt: Any, t: SeededTeacher | Learning, course_id: uuid.UUID) -> None:
    """A course completed (as a verified video completion records it)."""
    teacher_id = t.teacher_id
    async with rt.session_factory() as session, session.begin():
        await record_completion(
            session,
            teacher_id=teacher_id,
            project_id=t.project_id,
            source="video",
            source_ref=uuid.uuid4().hex,
            completed_at=datetime.now(UTC),
            course_id=course_id,
        )


async def total_hours(client: httpx.AsyncClient, token: str, teacher_id: uuid.UUID) -> str:
    r = await client.get(
        f"/plans/{teacher_id}/progress", headers={"Authorization": f"Bearer {token}"}
    )
    assert r.status_code == 200, r.text
    return str(r.json()["items"][0]["total_hours"])


# --- 调动 ---------------------------------------------------------------------------------------


async def test_a_transfer_moves_the_plan_its_progress_and_later_refusal_counts_to_the_new_school(
    px: Learning,
) -> None:
    await watch(px, px.teacher_token, 20)
    px.clock.advance(2)
    assert (await post(px, px.teacher_token, beat(px, segments=[[20, 60]]))).status_code == 409
    await publish(px.rt, transferred(px.teacher_id, LIXIA, RONGCHENG))
    await until_plan(px.rt, px.teacher_id, RONGCHENG, "active")

    async with px.rt.session_factory() as session:
        row = (
            await session.scalars(
                select(CourseProgress).where(CourseProgress.teacher_id == px.teacher_id)
            )
        ).one()
    assert [row.province_id, row.city_id, row.county_id, row.school_id] == RONGCHENG
    # Watching goes on where it stopped; a refusal now counts for the new school.
    token = px.token_for("teacher", RONGCHENG, teacher_id=str(px.teacher_id))
    px.clock.advance(10)
    r = await post(px, token, beat(px, segments=[[20, 30]]))
    assert r.status_code == 200 and r.json()["watched_seconds"] == 30, r.text
    px.clock.advance(2)
    assert (await post(px, token, beat(px, segments=[[30, 90]]))).status_code == 409
    new_admin = px.token_for("school_admin", RONGCHENG)
    assert await refusals(px, new_admin) == {RONGCHENG[3]: 1}
    assert await refusals(px, px.school_admin_token) == {LIXIA[3]: 1}  # its history stays

    old_county = px.token_for("county_admin", LIXIA[:3])
    for old in (px.school_admin_token, old_county):
        assert await reads(px.client, old, px.teacher_id) == [404, 404, 404]
    for new in (new_admin, px.token_for("city_admin", RONGCHENG[:2])):
        assert await reads(px.client, new, px.teacher_id) == [200, 200, 200]
    assert await reads(px.client, token, px.teacher_id) == [200, 200, 200]
    assert (await progress_of(px, token, px.teacher_id))["watched_seconds"] == 30


async def test_after_a_transfer_the_new_schools_topics_govern_new_selections_and_earlier_ones_stay_and_count(  # noqa: E501
    lx: LearningWorld,
) -> None:
    await lx.seed_rules()
    t = await lx.seed_plan()
    await lx.seed_school(OTHER_SCHOOL)
    for school, chosen in ((SCHOOL, "safety"), (OTHER_SCHOOL, "labour")):
        r = await lx.client.put(
            f"/schools/{school[3]}/topics",
            json={"project_id": str(t.project_id), "topic_ids": [chosen]},
            headers=lx.auth(lx.school_admin_token(school)),
        )
        assert r.status_code == 200, r.text
    done, unfinished, later = [await lx.seed_course(topic_id="safety", hours=2) for _ in "abc"]
    labour = await lx.seed_course(topic_id="labour", hours=2)

    async def select_(token: str, course_id: uuid.UUID) -> httpx.Response:
        return await lx.client.post(
            "/selections",
            json={"project_id": str(t.project_id), "course_id": str(course_id)},
            headers=lx.auth(token),
        )

    for course in (done, unfinished):
        assert (await select_(t.token, course.id)).status_code == 201
    await complete(lx.rt, t, done.id)
    await publish(lx.rt, transferred(t.teacher_id, SCHOOL, OTHER_SCHOOL))
    await until_plan(lx.rt, t.teacher_id, OTHER_SCHOOL, "active")
    token = lx.teacher_token(t.teacher_id, OTHER_SCHOOL)

    r = await select_(token, later.id)
    assert (r.status_code, r.json()["code"]) == (422, "topic_not_chosen_by_school")
    assert (await select_(token, labour.id)).status_code == 201
    mine = await lx.client.get(
        "/selections", params={"project_id": str(t.project_id)}, headers=lx.auth(token)
    )
    flags = {i["course"]["id"]: i["outside_school_topics"] for i in mine.json()["items"]}
    assert flags == {str(done.id): True, str(unfinished.id): True, str(labour.id): False}
    # The completed one keeps counting; the unfinished one counts once finished, and its
    # completion is attributed to the new school.
    assert await total_hours(lx.client, token, t.teacher_id) == "2.0"
    await complete(lx.rt, t, unfinished.id)
    assert await total_hours(lx.client, token, t.teacher_id) == "4.0"
    async with lx.rt.engine.connect() as conn:
        rows = await conn.execute(
            text(
                "SELECT payload FROM learning.outbox WHERE event_type = "
                "'learning.course_completed' AND key = :k ORDER BY id"
            ),
            {"k": str(t.teacher_id)},
        )
        schools = [json.loads(p)["data"]["org"]["school_id"] for (p,) in rows]
    assert schools == [SCHOOL[3], OTHER_SCHOOL[3]]


# --- 离职 ---------------------------------------------------------------------------------------


async def test_a_departed_teachers_plan_is_suspended_and_read_only_above_the_school_they_left(
    px: Learning,
) -> None:
    await watch(px, px.teacher_token, 20)
    await publish(px.rt, departed(px.teacher_id, LIXIA))
    await until_plan(px.rt, px.teacher_id, LIXIA, "departed")
    token = px.teacher_token

    px.clock.advance(10)
    r = await post(px, token, beat(px, segments=[[20, 30]]))
    assert (r.status_code, r.json()["code"]) == (409, "plan_departed")
    assert "离职" in r.json()["message_zh"] and "departed" in r.json()["message_en"]
    batch = await px.client.post(
        "/progress/batch",
        json={"heartbeats": [beat(px, segments=[[20, 30]])]},
        headers=px.auth(token),
    )
    assert batch.json()["results"][0]["outcome"] == "plan_departed"
    r = await px.assess(token, {"q1": "A", "q2": "B"})
    assert (r.status_code, r.json()["code"]) == (409, "plan_departed")
    elective = await px.add_course(kind="elective", scope="subject")
    body = {"project_id": str(px.project_id), "course_id": str(elective)}
    r = await px.client.post("/selections", json=body, headers=px.auth(token))
    assert (r.status_code, r.json()["code"]) == (409, "plan_departed")
    mine = await px.client.get(
        "/selections", params={"project_id": str(px.project_id)}, headers=px.auth(token)
    )
    assert mine.status_code == 200 and mine.json()["items"] == []
    assert (await progress_of(px, token, px.teacher_id))["watched_seconds"] == 20

    plans = await px.client.get(f"/plans/{px.teacher_id}", headers=px.auth(token))
    assert [p["status"] for p in plans.json()] == ["departed"]
    assert await reads(px.client, token, px.teacher_id) == [200, 200, 200]
    assert await reads(px.client, px.school_admin_token, px.teacher_id) == [404, 404, 404]
    for above in (LIXIA[:3], LIXIA[:2], LIXIA[:1]):
        role = {3: "county_admin", 2: "city_admin", 1: "province_admin"}[len(above)]
        assert await reads(px.client, px.token_for(role, above), px.teacher_id) == [200] * 3


async def test_a_take_in_from_the_departed_pool_resumes_the_plan_at_the_new_school_with_its_hours(
    px: Learning,
) -> None:
    await watch(px, px.teacher_token, 30)
    await complete(px.rt, px, await px.add_course(kind="elective", scope="subject"))
    mine = await px.client.get(
        f"/plans/{px.teacher_id}/progress", headers=px.auth(px.teacher_token)
    )
    hours = mine.json()["items"]
    assert hours[0]["total_hours"] == "1.0", hours
    await publish(px.rt, departed(px.teacher_id, LIXIA))
    await until_plan(px.rt, px.teacher_id, LIXIA, "departed")
    await publish(px.rt, transferred(px.teacher_id, LIXIA, RONGCHENG, from_pool=True))
    await until_plan(px.rt, px.teacher_id, RONGCHENG, "active")

    new_admin = px.token_for("school_admin", RONGCHENG)
    now = await px.client.get(f"/plans/{px.teacher_id}/progress", headers=px.auth(new_admin))
    assert now.status_code == 200 and now.json()["items"] == hours
    assert (await progress_of(px, new_admin, px.teacher_id))["watched_seconds"] == 30
    token = px.token_for("teacher", RONGCHENG, teacher_id=str(px.teacher_id))
    r = await post(px, token, beat(px, position=30))
    assert r.status_code == 200, r.text
    px.clock.advance(10)
    r = await post(px, token, beat(px, segments=[[30, 40]]))
    assert r.status_code == 200 and r.json()["watched_seconds"] == 40, r.text
    old_county = px.token_for("county_admin", LIXIA[:3])
    for old in (px.school_admin_token, old_county):
        assert await reads(px.client, old, px.teacher_id) == [404, 404, 404]


async def test_a_take_in_by_the_school_the_teacher_left_resumes_the_plan_there(
    lx: LearningWorld,
) -> None:
    t = await lx.seed_plan()
    await publish(lx.rt, departed(t.teacher_id, SCHOOL))
    await until_plan(lx.rt, t.teacher_id, SCHOOL, "departed")
    await publish(lx.rt, transferred(t.teacher_id, SCHOOL, SCHOOL, from_pool=True))
    await until_plan(lx.rt, t.teacher_id, SCHOOL, "active")
    assert await reads(lx.client, lx.school_admin_token(), t.teacher_id) == [200, 200, 200]


async def test_resent_enrollment_facts_never_resume_a_departed_plan_but_repair_a_missed_move(
    lx: LearningWorld,
) -> None:
    t = await lx.seed_plan()
    await publish(lx.rt, departed(t.teacher_id, SCHOOL))
    await until_plan(lx.rt, t.teacher_id, SCHOOL, "departed")
    # A resync re-sends the registration: the plan stays suspended.
    (again,) = await publish(
        lx.rt,
        TeacherRegistered(
            registration_id=uuid.uuid4(),
            project_id=t.project_id,
            project_year=t.year,
            teacher_id=t.teacher_id,
            teacher_name="张老师",
            stage="primary",
            subject=t.subject,
            is_rural=False,
            org=org(SCHOOL),
            registered_at=datetime.now(UTC),
        ),
    )
    await eventually(lambda: handled(lx.rt, again))
    assert (await plan_of(lx.rt, t.teacher_id)).status == "departed"
    # The take-in was lost with the broker's history; the re-sent teacher record says where
    # the teacher stands now, and the plan follows.
    await publish(
        lx.rt,
        TeacherUpdated(
            teacher_id=t.teacher_id,
            teacher_name="张老师",
            changed_fields=[],
            stage="primary",
            subject=t.subject,
            is_rural=False,
            status="active",
            verified=True,
            org=org(OTHER_SCHOOL),
            updated_at=datetime.now(UTC),
        ),
    )
    await until_plan(lx.rt, t.teacher_id, OTHER_SCHOOL, "active")


async def test_no_completion_counts_while_the_plan_is_departed(lx: LearningWorld) -> None:
    await lx.seed_rules()
    t = await lx.seed_plan()
    course = await lx.seed_course(topic_id="ethics", hours=2)
    await publish(lx.rt, departed(t.teacher_id, SCHOOL))
    await until_plan(lx.rt, t.teacher_id, SCHOOL, "departed")
    with pytest.raises(PlanDeparted):
        await complete(lx.rt, t, course.id)
    # A review submitted in the lessons service meanwhile earns nothing, and is not parked.
    (review,) = await publish(lx.rt, submitted(t, uuid.uuid4()))
    await eventually(lambda: handled(lx.rt, review))
    async with lx.rt.engine.connect() as conn:
        done = await conn.scalar(
            text("SELECT count(*) FROM learning.completions WHERE teacher_id = :t"),
            {"t": t.teacher_id},
        )
    assert done == 0
