"""Verified progress through the API on a real database: the real-time rule, skips, one device
session, completion (watched enough + assessment passed), batches, durability, refusal counts,
scope, and problem+json for bad input. The server's clock is a test clock (see `Clock`)."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Callable
from typing import Any

from sqlalchemy import text

from learning.config import Settings
from learning.main import create_app
from learning.progress.api import CLOCK
from learning.rules.service import today_in_shanghai
from services.learning.tests.test_progress_support import (
    LIXIA,
    Learning,
    beat,
    post,
    progress_of,
    px,
    watch,
)
from yanxiu.kit.auth import Principal, Role, issue_token
from yanxiu.testing import app_client

__all__ = ["px"]  # the fixture, imported for pytest to find (helper A's conftest has `lx`)


async def test_real_speed_playback_is_credited(px: Learning) -> None:
    await watch(px, px.teacher_token, 60)
    p = await progress_of(px, px.teacher_token, px.teacher_id)
    assert p["watched_seconds"] == 60 and p["refused"] == 0 and p["completed_at"] is None


async def test_sixteen_times_replay_earns_nothing_and_is_counted_for_admins(px: Learning) -> None:
    assert (await post(px, px.teacher_token, beat(px))).status_code == 200
    for i in range(1, 9):  # every 2 s a heartbeat claiming 32 s of playback
        px.clock.advance(2)
        r = await post(px, px.teacher_token, beat(px, segments=[[32 * (i - 1), 32 * i]]))
        assert r.status_code == 409, r.text
        assert r.headers["content-type"].startswith("application/problem+json")
        assert r.json()["code"] == "playback_too_fast"
    p = await progress_of(px, px.teacher_token, px.teacher_id)
    assert p["watched_seconds"] == 0 and p["refused"] == 8

    r = await px.client.get("/progress/refusals", headers=px.auth(px.school_admin_token))
    assert r.status_code == 200, r.text
    report = r.json()
    assert report["by_reason"] == {"playback_too_fast": 8} and report["total"] == 8
    assert report["items"][0]["school_id"] == LIXIA[3]
    assert report["items"][0]["by_reason"] == {"playback_too_fast": 8}
    # Another county's admin sees none of it.
    r = await px.client.get("/progress/refusals", headers=px.auth(px.other_admin_token))
    assert r.status_code == 200 and r.json()["total"] == 0


async def test_refusals_are_listed_per_school_page_by_page(px: Learning) -> None:
    other_school = [*LIXIA[:3], "370102-S002"]
    tid = uuid.uuid4()
    await px.register(tid, other_school)
    tokens = [px.teacher_token, px.token_for("teacher", other_school, teacher_id=str(tid))]
    for token in tokens:
        assert (await post(px, token, beat(px))).status_code == 200
    px.clock.advance(5)
    for token in tokens:
        assert (await post(px, token, beat(px, segments=[[0, 80]]))).status_code == 409
    county = px.auth(px.token_for("county_admin", LIXIA[:3]))
    first = (await px.client.get("/progress/refusals?limit=1", headers=county)).json()
    assert first["total"] == 2 and [i["school_id"] for i in first["items"]] == [LIXIA[3]]
    second = (
        await px.client.get(
            f"/progress/refusals?limit=1&cursor={first['next_cursor']}", headers=county
        )
    ).json()
    assert [i["school_id"] for i in second["items"]] == ["370102-S002"]
    assert second["next_cursor"] is None
    # The school admin sees only its own school.
    mine = (
        await px.client.get("/progress/refusals", headers=px.auth(px.school_admin_token))
    ).json()
    assert mine["total"] == 1 and len(mine["items"]) == 1


async def test_seeking_ahead_earns_nothing(px: Learning) -> None:
    await watch(px, px.teacher_token, 20)
    px.clock.advance(10)
    r = await post(px, px.teacher_token, beat(px, segments=[[20, 30]], position=590))
    assert r.status_code == 409 and r.json()["code"] == "seek_ahead"
    px.clock.advance(10)
    r = await post(px, px.teacher_token, beat(px, segments=[[0, 600]], position=600))
    assert r.status_code == 409 and r.json()["code"] == "playback_too_fast"
    p = await progress_of(px, px.teacher_token, px.teacher_id)
    assert p["watched_seconds"] == 20 and p["completed_at"] is None
    r = await px.client.get("/progress/refusals", headers=px.auth(px.school_admin_token))
    assert r.json()["by_reason"] == {"seek_ahead": 1, "playback_too_fast": 1}


async def test_a_second_device_session_takes_over_and_the_first_is_refused(px: Learning) -> None:
    await watch(px, px.teacher_token, 20)
    r = await post(px, px.teacher_token, beat(px, position=20, session="app-session-2"))
    assert r.status_code == 200
    px.clock.advance(10)
    r = await post(px, px.teacher_token, beat(px, segments=[[20, 30]]))
    assert r.status_code == 409 and r.json()["code"] == "device_session_superseded"
    r = await post(px, px.teacher_token, beat(px, segments=[[20, 30]], session="app-session-2"))
    assert r.status_code == 200 and r.json()["watched_seconds"] == 30


async def test_completion_needs_the_watch_ratio_and_a_passed_assessment(px: Learning) -> None:
    token = px.teacher_token
    await watch(px, token, 540)  # 90 % of 600 s: not enough yet
    failed = await px.assess(token, {"q1": "A", "q2": "C"})  # 50 < 60
    assert failed.status_code == 201 and failed.json()["passed"] is False
    passed = await px.assess(token, {"q1": "A", "q2": "B"})
    body = passed.json()
    assert body["passed"] and body["score"] == 100 and body["attempts"] == 2
    assert body["completed"] is False  # watched only 90 %
    assert await px.completions(px.teacher_id) == 0

    px.clock.advance(30)
    r = await post(px, token, beat(px, segments=[[540, 570]]))
    assert r.status_code == 200 and r.json()["completed"] is True
    p = await progress_of(px, token, px.teacher_id)
    assert p["completed_at"] and p["watched_ratio"] == 0.95 and p["attempts"] == 2
    assert await px.completions(px.teacher_id) == 1
    # Watching on changes nothing: the completion is recorded once.
    px.clock.advance(30)
    assert (await post(px, token, beat(px, segments=[[570, 600]]))).status_code == 200
    assert await px.completions(px.teacher_id) == 1


async def test_assessments_are_scored_on_the_server_and_checked(px: Learning) -> None:
    r = await px.assess(px.teacher_token, {"q1": "A", "q9": "B"})
    assert r.status_code == 422 and r.json()["code"] == "answers_invalid"
    r = await px.assess(px.school_admin_token, {"q1": "A"})
    assert r.status_code == 403
    stranger = px.token_for("teacher", LIXIA, teacher_id=str(uuid.uuid4()))
    assert (await px.assess(stranger, {"q1": "A"})).json()["code"] == "not_registered"
    r = await px.assess(px.teacher_token, {"q1": "A"})  # one of two right: 50 < 60
    assert r.status_code == 201 and r.json()["score"] == 50 and r.json()["passed"] is False
    async with px.engine_conn() as conn:
        rows = (
            await conn.execute(
                text(
                    "SELECT score, passed FROM learning.assessment_attempts WHERE teacher_id = :t"
                ),
                {"t": px.teacher_id},
            )
        ).all()
    assert [tuple(r) for r in rows] == [(50, False)]


async def test_watching_first_then_passing_completes_on_the_assessment(px: Learning) -> None:
    await watch(px, px.teacher_token, 600, step=30)
    r = await px.assess(px.teacher_token, {"q1": "A", "q2": "B"})
    assert r.status_code == 201 and r.json()["completed"] is True
    assert await px.completions(px.teacher_id) == 1


async def test_the_watch_ratio_comes_from_the_projects_rule_set(px: Learning) -> None:
    await px.set_rules(watch_ratio=0.5)
    await watch(px, px.teacher_token, 290)
    r = await px.assess(px.teacher_token, {"q1": "A", "q2": "B"})
    assert r.json()["completed"] is False
    px.clock.advance(10)
    r = await post(px, px.teacher_token, beat(px, segments=[[290, 300]]))
    assert r.json()["watched"] is True and r.json()["completed"] is True


async def test_learning_outside_the_projects_windows_is_refused(px: Learning) -> None:
    last_year = str(today_in_shanghai().year - 1)
    subject_course = await px.add_course(kind="required", scope="subject")
    await px.set_rules(
        windows={
            "learning": {"opens": "01-01", "closes": "12-31"},
            "subject_required": {"opens": f"{last_year}-10-18", "closes": f"{last_year}-12-31"},
        }
    )
    assert (await post(px, px.teacher_token, beat(px))).status_code == 200
    r = await post(px, px.teacher_token, beat(px, course_id=subject_course))
    assert r.status_code == 409 and r.json()["code"] == "subject_required_window_closed"
    await px.set_rules(
        windows={"learning": {"opens": f"{last_year}-08-15", "closes": f"{last_year}-12-31"}}
    )
    r = await post(px, px.teacher_token, beat(px))
    assert r.status_code == 409 and r.json()["code"] == "learning_window_closed"
    assert r.headers["content-type"].startswith("application/problem+json")
    r = await px.assess(px.teacher_token, {"q1": "A", "q2": "B"})
    assert r.status_code == 409 and r.json()["code"] == "learning_window_closed"


async def test_the_apps_batch_is_judged_in_order(px: Learning) -> None:
    assert (await post(px, px.teacher_token, beat(px, session="app-1234"))).status_code == 200
    px.clock.advance(40)
    batch = [beat(px, segments=[[i * 10, i * 10 + 10]], session="app-1234") for i in range(5)]
    r = await px.client.post(
        "/progress/batch", json={"heartbeats": batch}, headers=px.auth(px.teacher_token)
    )
    assert r.status_code == 200, r.text
    outcomes = [x["outcome"] for x in r.json()["results"]]
    # 40 s passed (+ tolerance): four 10-second heartbeats are paid, the fifth is too fast.
    assert outcomes == ["accepted"] * 4 + ["playback_too_fast"]
    assert r.json()["results"][3]["watched_seconds"] == 40


async def test_every_accepted_heartbeat_is_durable(px: Learning) -> None:
    teachers = [await px.add_teacher() for _ in range(30)]
    starts = await asyncio.gather(*(post(px, t, beat(px)) for _, t in teachers))
    px.clock.advance(10)
    plays = await asyncio.gather(*(post(px, t, beat(px, segments=[[0, 10]])) for _, t in teachers))
    ok = sum(r.status_code == 200 for r in [*starts, *plays])
    assert ok == 60
    async with px.engine_conn() as conn:
        rows = (
            await conn.execute(
                text("SELECT count(*) FROM learning.heartbeats WHERE outcome = 'accepted'")
            )
        ).scalar_one()
        credited = (
            await conn.execute(text("SELECT sum(watched_seconds) FROM learning.course_progress"))
        ).scalar_one()
    assert rows == ok and credited == 300
    assert px.batcher_batches() < 60  # coalesced, not one transaction per heartbeat


async def test_two_heartbeats_of_one_teacher_in_one_batch_see_each_other(px: Learning) -> None:
    assert (await post(px, px.teacher_token, beat(px))).status_code == 200
    px.clock.advance(10)
    body = beat(px, segments=[[0, 10]])
    a, b = await asyncio.gather(post(px, px.teacher_token, body), post(px, px.teacher_token, body))
    # Only 10 s passed: one of the two is paid, the other is too fast (never both).
    assert sorted([a.status_code, b.status_code]) == [200, 409]
    p = await progress_of(px, px.teacher_token, px.teacher_id)
    assert p["watched_seconds"] == 10


async def test_two_processes_writing_one_teacher_never_pay_twice(
    px: Learning, settings_for: Callable[..., Any]
) -> None:
    """Two service instances (two batchers, two pools) share the database: the teacher's viewer
    row lock serialises their batches, so 10 s of real time pays for 10 s, not 20."""
    other = create_app(settings_for(Settings))
    async with app_client(other) as second:
        other.state.runtime.extras[CLOCK] = px.clock
        assert (await post(px, px.teacher_token, beat(px))).status_code == 200
        for step in range(3):
            px.clock.advance(10)
            # Both claim the same 10 s (a replay from another process): one is paid.
            body = beat(px, segments=[[10 * step, 10 * step + 10]])
            a, b = await asyncio.gather(
                post(px, px.teacher_token, body),
                second.post("/progress", json=body, headers=px.auth(px.teacher_token)),
            )
            assert sorted([a.status_code, b.status_code]) == [200, 409]
    p = await progress_of(px, px.teacher_token, px.teacher_id)
    assert p["watched_seconds"] == 30 and p["heartbeats"] == 7


async def test_bad_heartbeats_are_problem_json_422(px: Learning) -> None:
    for bad in (
        {**beat(px), "segments": [[30, 10]]},
        {**beat(px), "position": -1},
        {**beat(px), "device_session_id": "x"},
        {**beat(px), "course_id": "not-a-uuid"},
        {**beat(px), "extra": 1},
    ):
        r = await post(px, px.teacher_token, bad)
        assert r.status_code == 422, bad
        assert r.headers["content-type"].startswith("application/problem+json")
        assert r.json()["code"] == "validation_failed" and r.json()["errors"]


async def test_heartbeats_need_a_valid_unexpired_token(
    px: Learning, keypair: tuple[str, str]
) -> None:
    assert (await px.client.post("/progress", json=beat(px))).status_code == 401
    r = await post(px, "not-a-token", beat(px))
    assert r.status_code == 401 and r.json()["code"] == "unauthorized"
    short = issue_token(
        Principal(
            user_id="u1", role=Role.teacher, org_path=tuple(LIXIA), teacher_id=str(px.teacher_id)
        ),
        private_key_pem=keypair[0],
        ttl_seconds=1,
    )
    assert (await post(px, short, beat(px))).status_code == 200
    await asyncio.sleep(1.5)  # a verified token is remembered only until its own expiry
    r = await post(px, short, beat(px))
    assert r.status_code == 401, r.text


async def test_only_registered_teachers_may_post(px: Learning) -> None:
    stranger = px.token_for("teacher", LIXIA, teacher_id=str(uuid.uuid4()))
    r = await post(px, stranger, beat(px))
    assert r.status_code == 422 and r.json()["code"] == "not_registered"
    r = await post(px, px.school_admin_token, beat(px))
    assert r.status_code == 403
    r = await post(px, px.teacher_token, beat(px, course_id=uuid.uuid4()))
    assert r.status_code == 404 and r.json()["code"] == "course_not_found"
    await px.withdraw(px.teacher_id)
    r = await post(px, px.teacher_token, beat(px))
    assert r.status_code == 422 and r.json()["code"] == "not_registered"


async def test_progress_is_visible_to_the_teacher_and_admins_in_scope_only(px: Learning) -> None:
    await watch(px, px.teacher_token, 10)
    assert (await progress_of(px, px.school_admin_token, px.teacher_id))["watched_seconds"] == 10
    for token in (
        px.other_admin_token,
        px.token_for("teacher", LIXIA, teacher_id=str(uuid.uuid4())),
    ):
        r = await px.client.get(f"/progress/{px.teacher_id}", headers=px.auth(token))
        assert r.status_code == 404
    r = await px.client.get("/progress/refusals", headers=px.auth(px.teacher_token))
    assert r.status_code == 403


async def test_the_benchmark_floor_route_is_gone(px: Learning) -> None:
    """The floor is measured on the shared floor app (bench/learning_heartbeats.py), never on a
    route of the service (issue #15)."""
    r = await px.client.post("/progress/_floor", json=beat(px), headers=px.auth(px.teacher_token))
    assert r.status_code in (404, 405), r.text
    schema = (await px.client.get("/openapi.json")).json()
    assert "/progress/_floor" not in schema["paths"] and "/progress" in schema["paths"]
