"""Dashboard events (issue #18) on a real database: PlanChanged on each real change of a plan
(made, withdrawn, departed, active again, moved), nothing for a re-sent fact; StudyStarted once
per teacher and project, at the first accepted heartbeat or the first counted completion, also
when two transactions race; the resync re-sends the state as those events and the completions'
and evaluations' own."""

from __future__ import annotations

import asyncio
import json
import uuid
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy import select, text
from sqlalchemy.ext.asyncio import AsyncSession

from learning.consumers import (
    on_teacher_departed,
    on_teacher_registered,
    on_teacher_transferred,
    on_teacher_updated,
    on_teacher_withdrawn,
)
from learning.models import Plan
from learning.plan_events import start_study
from learning.progress.service import Beat, Outcome, Policy, process_heartbeats
from learning.resync.service import resync
from services.learning.tests.conftest import OTHER_SCHOOL, SCHOOL, LearningWorld
from services.learning.tests.test_attainment import NOW, complete, meet_2023
from services.learning.tests.test_progress_support import Learning, beat, post, px, watch
from yanxiu.contracts.enrollment import (
    TeacherDeparted,
    TeacherRegistered,
    TeacherTransferred,
    TeacherUpdated,
    TeacherWithdrawn,
)
from yanxiu.contracts.envelope import OrgPath
from yanxiu.kit.db import statements_var

__all__ = ["px"]  # the progress fixture, imported for pytest to find

PLAN_CHANGED, STUDY_STARTED = "learning.plan_changed", "learning.study_started"


def org(path: list[str]) -> OrgPath:
    return OrgPath(province_id=path[0], city_id=path[1], county_id=path[2], school_id=path[3])


async def events(rt: Any, event_type: str, *, after: int = 0) -> list[dict[str, Any]]:
    """The payloads of this type in learning's outbox, in outbox order (ids above `after`)."""
    async with rt.engine.connect() as conn:
        rows = await conn.execute(
            text(
                "SELECT payload FROM learning.outbox WHERE event_type = :t AND id > :a ORDER BY id"
            ),
            {"t": event_type, "a": after},
        )
        return [json.loads(r[0])["data"] for r in rows]


async def last_outbox_id(rt: Any) -> int:
    async with rt.engine.connect() as conn:
        return int(await conn.scalar(text("SELECT coalesce(max(id), 0) FROM learning.outbox")))


def registered(
    teacher_id: uuid.UUID, project_id: uuid.UUID, path: list[str] = SCHOOL, **kw: Any
) -> TeacherRegistered:
    return TeacherRegistered(
        registration_id=kw.pop("registration_id", uuid.uuid4()),
        project_id=project_id,
        project_year=2026,
        teacher_id=teacher_id,
        teacher_name=kw.pop("teacher_name", "张老师"),
        stage="primary",
        subject="数学",
        is_rural=False,
        org=org(path),
        registered_at=datetime.now(UTC),
    )


def exact(payload: dict[str, Any]) -> dict[str, Any]:
    """A payload with its decimal strings as numbers."""
    out = dict(payload)
    for name in ("hours", "total_hours"):
        if name in out:
            out[name] = Decimal(out[name])
    if "hours_by_category" in out:
        out["hours_by_category"] = {k: Decimal(v) for k, v in out["hours_by_category"].items()}
    return out


def statuses(found: list[dict[str, Any]], teacher_id: uuid.UUID) -> list[str]:
    return [e["status"] for e in found if e["teacher_id"] == str(teacher_id)]


async def test_a_registration_makes_the_plan_with_one_plan_changed_active(
    lx: LearningWorld,
) -> None:
    tid = uuid.uuid4()
    await lx.run(lambda s: on_teacher_registered(s, [registered(tid, lx.project_id)]))
    [event] = await events(lx.rt, PLAN_CHANGED)
    assert event["teacher_id"] == str(tid) and event["project_id"] == str(lx.project_id)
    assert event["status"] == "active" and event["project_year"] == 2026
    assert event["org"] == org(SCHOOL).model_dump()


async def test_a_redelivered_or_resent_registration_that_changes_nothing_writes_nothing(
    lx: LearningWorld,
) -> None:
    tid = uuid.uuid4()
    first = registered(tid, lx.project_id)
    await lx.run(lambda s: on_teacher_registered(s, [first]))
    await lx.run(lambda s: on_teacher_registered(s, [first]))  # the same event again
    # Re-sent (a resync): a new event with the teacher's corrected name, same status and place.
    resent = registered(tid, lx.project_id, teacher_name="张三老师")
    await lx.run(lambda s: on_teacher_registered(s, [resent, first]))
    assert statuses(await events(lx.rt, PLAN_CHANGED), tid) == ["active"]


async def test_a_withdrawal_writes_plan_changed_withdrawn_once_and_a_new_registration_active(
    lx: LearningWorld,
) -> None:
    tid = uuid.uuid4()
    await lx.run(lambda s: on_teacher_registered(s, [registered(tid, lx.project_id)]))
    withdrawn = TeacherWithdrawn(
        teacher_id=tid,
        project_id=lx.project_id,
        registration_id=uuid.uuid4(),
        org=org(SCHOOL),
        withdrawn_at=datetime.now(UTC),
    )
    await lx.run(lambda s: on_teacher_withdrawn(s, withdrawn))
    await lx.run(lambda s: on_teacher_withdrawn(s, withdrawn))  # re-delivered: no change
    assert statuses(await events(lx.rt, PLAN_CHANGED), tid) == ["active", "withdrawn"]
    await lx.run(lambda s: on_teacher_registered(s, [registered(tid, lx.project_id)]))
    assert statuses(await events(lx.rt, PLAN_CHANGED), tid) == ["active", "withdrawn", "active"]


async def test_departure_and_take_in_write_departed_then_active_at_the_new_school(
    lx: LearningWorld,
) -> None:
    tid = uuid.uuid4()
    await lx.run(lambda s: on_teacher_registered(s, [registered(tid, lx.project_id)]))
    gone = TeacherDeparted(
        teacher_id=tid,
        org=org(SCHOOL),
        stage="primary",
        subject="数学",
        departed_at=datetime.now(UTC),
    )
    await lx.run(lambda s: on_teacher_departed(s, gone))
    await lx.run(lambda s: on_teacher_departed(s, gone))  # re-delivered: no change
    # A registration re-sent by a resync keeps a departed plan departed: nothing changes.
    await lx.run(lambda s: on_teacher_registered(s, [registered(tid, lx.project_id)]))
    taken_in = TeacherTransferred(
        teacher_id=tid,
        from_org=org(SCHOOL),
        to_org=org(OTHER_SCHOOL),
        org=org(OTHER_SCHOOL),
        from_departed_pool=True,
        stage="primary",
        subject="数学",
        transferred_at=datetime.now(UTC),
    )
    await lx.run(lambda s: on_teacher_transferred(s, taken_in))
    # The teacher's record re-sent as it stands (a resync's TeacherUpdated): no change.
    updated = TeacherUpdated(
        teacher_id=tid,
        teacher_name="张老师",
        changed_fields=[],
        stage="primary",
        subject="数学",
        is_rural=False,
        status="active",
        verified=True,
        org=org(OTHER_SCHOOL),
        updated_at=datetime.now(UTC),
    )
    await lx.run(lambda s: on_teacher_updated(s, [updated]))
    found = [e for e in await events(lx.rt, PLAN_CHANGED) if e["teacher_id"] == str(tid)]
    assert [e["status"] for e in found] == ["active", "departed", "active"]
    assert found[1]["org"] == org(SCHOOL).model_dump()  # it stays where the teacher left
    assert found[2]["org"] == org(OTHER_SCHOOL).model_dump()


async def test_the_first_accepted_heartbeat_starts_the_study_once(px: Learning) -> None:
    started_at = px.clock.now
    await watch(px, px.teacher_token, 600, step=60)  # heartbeat after heartbeat, to the end
    passed = await px.assess(px.teacher_token, {"q1": "A", "q2": "B"})  # completes the course
    assert passed.status_code == 201 and passed.json()["passed"], passed.text
    assert await px.completions(px.teacher_id) == 1
    [event] = await events(px.rt, STUDY_STARTED)
    assert event["teacher_id"] == str(px.teacher_id) and event["project_id"] == str(px.project_id)
    assert datetime.fromisoformat(event["started_at"]) == started_at
    assert event["org"]["school_id"] == "370102-S001" and event["project_year"] == 2026


async def test_only_the_first_heartbeat_pays_for_starting_the_study(px: Learning) -> None:
    """The heartbeat path is hot: an ordinary heartbeat sends the statements it sent before
    (the plan's start is read in the batch's first statement); only the first one adds two
    (the plan's conditional UPDATE and the outbox row)."""

    async def statements(teacher_id: uuid.UUID, segments: tuple[tuple[float, float], ...]) -> int:
        counter = [0]
        token = statements_var.set(counter)
        try:
            async with px.rt.session_factory() as session, session.begin():
                [result] = await process_heartbeats(
                    session,
                    beats=[
                        Beat(
                            teacher_id=teacher_id,
                            course_id=px.course_id,
                            project_id=px.project_id,
                            session_id="web-session-1",
                            position=segments[-1][1] if segments else 0.0,
                            segments=segments,
                            client_at=None,
                            received_at=px.clock.now,
                        )
                    ],
                    policy=Policy(),
                )
        finally:
            statements_var.reset(token)
        assert isinstance(result, Outcome) and result.accepted, result
        return counter[0]

    await statements(px.teacher_id, ())  # the process reads the project's rules once
    teacher_id, _ = await px.add_teacher()
    first = await statements(teacher_id, ())
    px.clock.advance(10)
    second = await statements(teacher_id, ((0.0, 10.0),))
    px.clock.advance(10)
    third = await statements(teacher_id, ((10.0, 20.0),))
    assert second == third and first == second + 2
    assert [e["teacher_id"] for e in await events(px.rt, STUDY_STARTED)] == [
        str(px.teacher_id),
        str(teacher_id),
    ]


async def test_a_refused_heartbeat_starts_nothing(px: Learning) -> None:
    # Five minutes of playback claimed by the very first heartbeat: too fast, refused.
    r = await post(px, px.teacher_token, beat(px, segments=[[0, 300]]))
    assert r.status_code == 409 and r.json()["code"] == "playback_too_fast", r.text
    assert await events(px.rt, STUDY_STARTED) == []
    px.clock.advance(10)
    assert (await post(px, px.teacher_token, beat(px, position=300))).status_code == 200
    [event] = await events(px.rt, STUDY_STARTED)
    assert datetime.fromisoformat(event["started_at"]) == px.clock.now


async def test_two_racing_first_progresses_start_the_study_once(lx: LearningWorld) -> None:
    t = await lx.seed_plan()
    first_at, second_at = NOW - timedelta(minutes=1), NOW
    sessions = lx.rt.session_factory
    async with sessions() as one, one.begin():
        assert await start_study(one, [(t.teacher_id, t.project_id, first_at)]) == 1

        async def other() -> int:
            async with sessions() as two, two.begin():
                return await start_study(two, [(t.teacher_id, t.project_id, second_at)])

        racing = asyncio.create_task(other())
        await asyncio.sleep(0.3)  # it waits for the first one's row lock
        assert not racing.done()
    assert await racing == 0
    [event] = await events(lx.rt, STUDY_STARTED)
    assert datetime.fromisoformat(event["started_at"]) == first_at


async def test_a_first_completion_without_heartbeats_starts_the_study(lx: LearningWorld) -> None:
    t = await lx.seed_plan()
    await lx.seed_rules(t.project_id, "shandong-2023")
    course = await lx.seed_course(hours=2)
    await complete(lx, t, "evt-1", course_id=course.id)
    other = await lx.seed_course(hours=1)
    await complete(lx, t, "evt-2", course_id=other.id)
    [event] = await events(lx.rt, STUDY_STARTED)
    assert datetime.fromisoformat(event["started_at"]) == NOW
    async with lx.rt.engine.connect() as conn:
        types = [
            r[0]
            for r in await conn.execute(text("SELECT event_type FROM learning.outbox ORDER BY id"))
        ]
    assert types[:2] == [STUDY_STARTED, "learning.course_completed"]  # started, then counted


async def test_resync_resends_plans_starts_completions_and_met_requirements(
    lx: LearningWorld,
) -> None:
    met = await lx.seed_plan()
    await lx.seed_rules(met.project_id, "shandong-2023")
    await meet_2023(lx, met)
    withdrawn_id = uuid.uuid4()
    await lx.run(lambda s: on_teacher_registered(s, [registered(withdrawn_id, lx.project_id)]))
    await lx.run(
        lambda s: on_teacher_withdrawn(
            s,
            TeacherWithdrawn(
                teacher_id=withdrawn_id,
                project_id=lx.project_id,
                registration_id=uuid.uuid4(),
                org=org(SCHOOL),
                withdrawn_at=datetime.now(UTC),
            ),
        )
    )
    completed = await events(lx.rt, "learning.course_completed")
    [started] = await events(lx.rt, STUDY_STARTED)
    [reached] = await events(lx.rt, "learning.requirements_met")
    mark = await last_outbox_id(lx.rt)

    done = await resync(lx.rt.session_factory, since=None, page=1)  # a page per row

    assert (done.plan_changed, done.study_started) == (2, 1)
    assert (done.course_completed, done.requirements_met) == (5, 1)
    plans = await events(lx.rt, PLAN_CHANGED, after=mark)
    assert sorted((p["teacher_id"], p["status"]) for p in plans) == sorted(
        [(str(met.teacher_id), "active"), (str(withdrawn_id), "withdrawn")]
    )
    assert await events(lx.rt, STUDY_STARTED, after=mark) == [started]  # same started_at
    # As counted (hours are decimals: "1" as sent, "1.0" as stored, the same number).
    again = await events(lx.rt, "learning.course_completed", after=mark)
    assert sorted(map(exact, again), key=lambda e: e["completion_id"]) == sorted(
        map(exact, completed), key=lambda e: e["completion_id"]
    )
    [met_again] = await events(lx.rt, "learning.requirements_met", after=mark)
    assert exact(met_again) == exact(reached)  # the same evaluation id, hours and time

    async def changed_at(session: AsyncSession) -> datetime:
        plan = (await session.scalars(select(Plan).where(Plan.teacher_id == withdrawn_id))).one()
        return plan.updated_at

    withdrawn_event = next(p for p in plans if p["teacher_id"] == str(withdrawn_id))
    assert datetime.fromisoformat(withdrawn_event["changed_at"]) == await lx.run(changed_at)

    # With `since` after every change: nothing to re-send.
    later = await resync(lx.rt.session_factory, since=datetime.now(UTC) + timedelta(hours=1))
    assert (later.plan_changed, later.course_completed, later.requirements_met) == (0, 0, 0)
