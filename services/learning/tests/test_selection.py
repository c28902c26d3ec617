"""选课: school topics (≤ 6, ethics always), teachers' electives within topics, hours and window."""

from __future__ import annotations

import uuid
from typing import Any

import httpx

from services.learning.tests.conftest import OTHER_SCHOOL, SCHOOL, LearningWorld, SeededTeacher

CLOSED = {
    "selection": {"opens": "2001-08-11", "closes": "2001-09-15"},
    "learning": {"opens": "01-01", "closes": "12-31"},
}


async def put_topics(lx: LearningWorld, topics: list[str], **kw: Any) -> httpx.Response:
    token = kw.pop("token", None) or lx.school_admin_token()
    await lx.seed_school(SCHOOL)  # known to learning from enrollment's events
    return await lx.client.put(
        f"/schools/{kw.pop('school', SCHOOL[3])}/topics",
        json={"project_id": str(lx.project_id), "topic_ids": topics},
        headers=lx.auth(token),
    )


async def select(lx: LearningWorld, t: SeededTeacher, course_id: uuid.UUID) -> httpx.Response:
    return await lx.client.post(
        "/selections",
        json={"project_id": str(t.project_id), "course_id": str(course_id)},
        headers=lx.auth(t.token),
    )


async def test_school_picks_topics_and_ethics_is_added_automatically(lx: LearningWorld) -> None:
    await lx.seed_rules()
    r = await put_topics(lx, ["safety", "labour"])
    assert r.status_code == 200, r.text
    assert [t["id"] for t in r.json()["topics"]] == ["ethics", "labour", "safety"]


async def test_school_may_pick_at_most_six_topics_counting_ethics(lx: LearningWorld) -> None:
    await lx.seed_rules()
    five = ["safety", "labour", "steam", "evaluation", "mental_health"]
    assert (await put_topics(lx, five)).status_code == 200
    r = await put_topics(lx, [*five, "family_education"])
    assert r.status_code == 422 and r.json()["code"] == "too_many_topics"
    assert "6" in r.json()["detail"]


async def test_only_the_schools_own_admin_picks_its_topics(lx: LearningWorld) -> None:
    await lx.seed_rules()
    await lx.seed_school(OTHER_SCHOOL)
    other = lx.school_admin_token(OTHER_SCHOOL)
    r = await put_topics(lx, ["safety"], token=other)
    assert (r.status_code, r.json()["code"]) == (404, "school_not_found")
    teacher = lx.teacher_token(uuid.uuid4())
    assert (await put_topics(lx, ["safety"], token=teacher)).status_code == 403


async def test_general_electives_only_inside_school_topics(lx: LearningWorld) -> None:
    await lx.seed_rules()
    t = await lx.seed_plan()
    await put_topics(lx, ["safety"])
    inside = await lx.seed_course(topic_id="safety", hours=2)
    outside = await lx.seed_course(topic_id="steam", hours=2)
    ethics = await lx.seed_course(topic_id="ethics", hours=2)
    assert (await select(lx, t, inside.id)).status_code == 201
    assert (await select(lx, t, ethics.id)).status_code == 201
    r = await select(lx, t, outside.id)
    assert r.status_code == 422 and r.json()["code"] == "topic_not_chosen_by_school"


async def test_subject_electives_are_free_of_school_topics_but_match_stage_and_subject(
    lx: LearningWorld,
) -> None:
    await lx.seed_rules()
    t = await lx.seed_plan(stage="primary", subject="数学")
    mine = await lx.seed_course(scope="subject", stages=["primary"], subjects=["数学"])
    other = await lx.seed_course(scope="subject", stages=["primary"], subjects=["语文"])
    senior = await lx.seed_course(scope="subject", stages=["senior"], subjects=["数学"])
    assert (await select(lx, t, mine.id)).status_code == 201
    for c in (other, senior):
        r = await select(lx, t, c.id)
        assert r.status_code == 422 and r.json()["code"] == "course_not_for_teacher"


async def test_required_courses_are_not_selected(lx: LearningWorld) -> None:
    await lx.seed_rules()
    t = await lx.seed_plan()
    required = await lx.seed_course(kind="required", topic_id="ethics")
    r = await select(lx, t, required.id)
    assert r.status_code == 422 and r.json()["code"] == "not_elective"


async def test_selected_electives_may_not_exceed_the_projects_maximum(lx: LearningWorld) -> None:
    await lx.seed_rules()  # 2023: electives 19–23 h
    t = await lx.seed_plan()
    big = await lx.seed_course(scope="subject", hours=20)
    small = await lx.seed_course(scope="subject", hours=3)
    extra = await lx.seed_course(scope="subject", hours="0.5")
    assert (await select(lx, t, big.id)).status_code == 201
    assert (await select(lx, t, small.id)).status_code == 201
    r = await select(lx, t, extra.id)
    assert r.status_code == 409 and r.json()["code"] == "elective_hours_exceeded"
    assert "23" in r.json()["detail"]
    again = await select(lx, t, small.id)
    assert again.status_code == 409 and again.json()["code"] == "already_selected"
    mine = await lx.client.get(
        "/selections", params={"project_id": str(t.project_id)}, headers=lx.auth(t.token)
    )
    assert mine.json()["selected_hours"] == "23.0"


async def test_selection_outside_the_window_is_409_naming_its_dates(lx: LearningWorld) -> None:
    await lx.seed_rules(windows=CLOSED)
    t = await lx.seed_plan()
    course = await lx.seed_course(scope="subject")
    r = await select(lx, t, course.id)
    assert r.status_code == 409
    body = r.json()
    assert body["code"] == "selection_window_closed"
    assert "2001-08-11" in body["detail"] and "2001-09-15" in body["detail"]
    assert body["opens_on"] == "2001-08-11" and body["closes_on"] == "2001-09-15"
    assert "选课时间" in body["message_zh"] and "selection window" in body["message_en"]
    assert (await put_topics(lx, ["safety"])).status_code == 409


async def test_teacher_drops_own_selection_only(lx: LearningWorld) -> None:
    await lx.seed_rules()
    t = await lx.seed_plan()
    course = await lx.seed_course(scope="subject")
    sel = (await select(lx, t, course.id)).json()
    other = await lx.seed_plan()
    stranger = await lx.client.delete(f"/selections/{sel['id']}", headers=lx.auth(other.token))
    assert stranger.status_code == 404
    mine = await lx.client.delete(f"/selections/{sel['id']}", headers=lx.auth(t.token))
    assert mine.status_code == 204
    assert (await select(lx, t, course.id)).status_code == 201


async def test_unregistered_teacher_cannot_select(lx: LearningWorld) -> None:
    await lx.seed_rules()
    course = await lx.seed_course(scope="subject")
    ghost = SeededTeacher(
        uuid.uuid4(), lx.project_id, "primary", "数学", SCHOOL, lx.teacher_token(uuid.uuid4()), 0
    )
    r = await select(lx, ghost, course.id)
    assert r.status_code == 422 and r.json()["code"] == "not_registered"


async def test_suggestions_fill_the_remaining_required_hours(lx: LearningWorld) -> None:
    await lx.seed_rules()
    t = await lx.seed_plan(stage="primary", subject="数学")
    await put_topics(lx, ["safety"])
    ethics = await lx.seed_course(kind="required", topic_id="ethics", hours=2)
    inside = await lx.seed_course(topic_id="safety", hours=10)
    outside = await lx.seed_course(topic_id="steam", hours=10)
    math = await lx.seed_course(scope="subject", subjects=["数学"], hours=8)
    chinese = await lx.seed_course(scope="subject", subjects=["语文"], hours=8)
    chosen = await lx.seed_course(scope="subject", subjects=["数学"], hours=5)
    assert (await select(lx, t, chosen.id)).status_code == 201
    r = await lx.client.get(
        f"/plans/{t.teacher_id}/suggestions",
        params={"project_id": str(t.project_id)},
        headers=lx.auth(t.token),
    )
    assert r.status_code == 200, r.text
    by_bucket = {s["bucket"]: s for s in r.json()["suggestions"]}
    # Reviews are pushed by the lessons service: the hours show, no course stands for them.
    assert by_bucket["subject_required"]["remaining_hours"] == "3.0"
    assert by_bucket["subject_required"]["courses"] == []
    assert [c["id"] for c in by_bucket["general_required"]["courses"]] == [str(ethics.id)]
    elective = by_bucket["elective"]
    assert elective["remaining_hours"] == "14.0"  # 19 − 5 already selected
    ids = {c["id"] for c in elective["courses"]}
    assert ids == {str(inside.id), str(math.id)}
    assert not ids & {str(outside.id), str(chinese.id), str(chosen.id)}


async def test_selection_retried_with_the_same_idempotency_key_replays_the_first_answer(
    lx: LearningWorld,
) -> None:
    await lx.seed_rules()
    t = await lx.seed_plan()
    course = await lx.seed_course(scope="subject")
    body = {"project_id": str(t.project_id), "course_id": str(course.id)}
    h = lx.auth(t.token) | {"Idempotency-Key": "sel-1"}
    first = await lx.client.post("/selections", json=body, headers=h)
    again = await lx.client.post("/selections", json=body, headers=h)
    assert first.status_code == again.status_code == 201
    assert first.json()["id"] == again.json()["id"]
