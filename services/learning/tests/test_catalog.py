"""课程: courses and topics; the province manages, everyone signed in lists; answers stay secret."""

from __future__ import annotations

import uuid
from typing import Any

from services.learning.tests.conftest import SCHOOL, LearningWorld


def course_body(**over: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "code": f"C-{uuid.uuid4().hex[:8]}",
        "title": "班主任工作艺术",
        "kind": "elective",
        "scope": "general",
        "topic_id": "class_management",
        "hours": "2",
        "stages": ["primary", "junior"],
        "video_seconds": 3600,
        "pass_mark": 60,
        "assessment": [
            {
                "id": "q1",
                "text": "班会的目的？",
                "options": {"A": "教育", "B": "娱乐"},
                "answer": "A",
            }
        ],
    }
    return body | over


async def test_sixteen_topics_with_ethics_first(lx: LearningWorld) -> None:
    r = await lx.client.get("/topics", headers=lx.auth(lx.token("teacher", SCHOOL)))
    assert r.status_code == 200
    topics = r.json()
    assert len(topics) == 16
    assert topics[0] == {"id": "ethics", "name": "师德师风建设", "is_ethics": True}


async def test_province_admin_adds_a_course_and_answers_are_never_exposed(
    lx: LearningWorld,
) -> None:
    r = await lx.client.post("/courses", json=course_body(), headers=lx.auth(lx.province_token()))
    assert r.status_code == 201, r.text
    created = r.json()
    assert created["category"] == "general_elective"
    assert created["questions"] == [
        {"id": "q1", "text": "班会的目的？", "options": {"A": "教育", "B": "娱乐"}}
    ]
    one = await lx.client.get(
        f"/courses/{created['id']}", headers=lx.auth(lx.token("teacher", SCHOOL))
    )
    assert one.status_code == 200 and "answer" not in one.text


async def test_only_the_province_adds_courses(lx: LearningWorld) -> None:
    r = await lx.client.post(
        "/courses", json=course_body(), headers=lx.auth(lx.school_admin_token())
    )
    assert r.status_code == 403


async def test_course_needs_signed_in_caller(lx: LearningWorld) -> None:
    assert (await lx.client.get("/courses")).status_code == 401


async def test_bad_course_shapes_are_422(lx: LearningWorld) -> None:
    token = lx.auth(lx.province_token())
    no_topic = course_body(topic_id=None)
    assert (await lx.client.post("/courses", json=no_topic, headers=token)).status_code == 422
    bad_answer = course_body(
        assessment=[{"id": "q", "text": "t", "options": {"A": "a", "B": "b"}, "answer": "C"}]
    )
    assert (await lx.client.post("/courses", json=bad_answer, headers=token)).status_code == 422
    unknown = await lx.client.post(
        "/courses", json=course_body(topic_id="astrology"), headers=token
    )
    assert unknown.status_code == 422 and unknown.json()["code"] == "topic_unknown"


async def test_duplicate_course_code_is_409(lx: LearningWorld) -> None:
    token = lx.auth(lx.province_token())
    body = course_body()
    assert (await lx.client.post("/courses", json=body, headers=token)).status_code == 201
    again = await lx.client.post("/courses", json=body, headers=token)
    assert again.status_code == 409 and again.json()["code"] == "course_code_taken"


async def test_courses_filter_by_stage_subject_scope_kind_topic(lx: LearningWorld) -> None:
    math = await lx.seed_course(scope="subject", stages=["primary"], subjects=["数学"])
    await lx.seed_course(scope="subject", stages=["primary"], subjects=["语文"])
    await lx.seed_course(scope="subject", stages=["senior"], subjects=["数学"])
    every = await lx.seed_course(scope="general", topic_id="safety")
    ethics = await lx.seed_course(scope="general", kind="required", topic_id="ethics")
    h = lx.auth(lx.token("teacher", SCHOOL))

    async def ids(**q: str) -> set[str]:
        r = await lx.client.get("/courses", params=q, headers=h)
        assert r.status_code == 200, r.text
        return {c["id"] for c in r.json()["items"]}

    assert await ids(stage="primary", subject="数学") == {
        str(math.id),
        str(every.id),
        str(ethics.id),
    }
    assert await ids(scope="subject", stage="primary", subject="数学") == {str(math.id)}
    assert await ids(kind="required") == {str(ethics.id)}
    assert await ids(topic="safety") == {str(every.id)}


async def test_courses_are_cursor_paginated(lx: LearningWorld) -> None:
    for _ in range(5):
        await lx.seed_course()
    h = lx.auth(lx.token("teacher", SCHOOL))
    seen: list[str] = []
    cursor: str | None = None
    while True:
        params = {"limit": "2"} | ({"cursor": cursor} if cursor else {})
        page = (await lx.client.get("/courses", params=params, headers=h)).json()
        seen += [c["id"] for c in page["items"]]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert len(seen) == 5 == len(set(seen))
    bad = await lx.client.get("/courses", params={"cursor": "!!"}, headers=h)
    assert bad.status_code == 422
