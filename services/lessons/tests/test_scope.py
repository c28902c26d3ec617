"""Who sees and changes what in lessons (issue #12 point 1): a teacher their own lessons,
assignments and reviews; admins what the stored school of the lesson (or the reviewer's stored
place in the review pool) puts in their subtree; colleagues, workshop hosts, experts and
admins of other orgs nothing (404 for a record, an empty list for a list, 403 for an operation
their role never performs). A teacher id on a non-teacher token grants nothing."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import httpx

from lessons.models import Lesson
from yanxiu.contracts.enrollment import TeacherTransferred
from yanxiu.contracts.envelope import OrgPath
from yanxiu.testing import eventually

from .conftest import (
    JINAN,
    LIXIA,
    LIXIA_SCHOOL,
    PROVINCE,
    RONGCHENG_SCHOOL,
    SHIZHONG_SCHOOL,
    WEIHAI,
    SeedLesson,
    Tokens,
    auth,
    create_lesson,
)
from .test_allocation import SCORES, _at_least, publish, registration

STAFF_ROLES = ("workshop_host", "expert", "training_institution", "provider")


def staff(token_for: Callable[..., str], role: str, **kw: Any) -> dict[str, str]:
    return auth(token_for(role, LIXIA_SCHOOL, **kw))


async def test_a_lesson_is_read_only_by_its_teacher_and_the_admins_above_its_school(
    client: httpx.AsyncClient, tokens: Tokens, token_for: Callable[..., str]
) -> None:
    teacher = uuid.uuid4()
    lesson = await create_lesson(client, tokens, LIXIA_SCHOOL, teacher_id=teacher)
    url = f"/lessons/{lesson['id']}"
    assert (await client.get(url, headers=tokens.teacher(LIXIA_SCHOOL, teacher))).status_code == 200
    for role in STAFF_ROLES:
        headers = staff(token_for, role, teacher_id=str(teacher))
        r = await client.get(url, headers=headers)
        assert (r.status_code, r.json()["code"]) == (404, "lesson_not_found"), role
        assert (await client.get(f"{url}/promotions", headers=headers)).status_code == 404
        assert (await client.get("/lessons", headers=headers)).status_code == 403
        r = await client.patch(url, json={"national_platform_no": "X-1"}, headers=headers)
        assert r.status_code == 404


async def test_admins_of_another_org_neither_see_nor_select_award_or_number_a_lesson(
    client: httpx.AsyncClient, tokens: Tokens, seed_lesson: SeedLesson
) -> None:
    lesson = await seed_lesson(level="city", school=LIXIA_SCHOOL)
    url = f"/lessons/{lesson.id}"
    for org in (RONGCHENG_SCHOOL[:3], SHIZHONG_SCHOOL[:3]):
        headers = tokens.admin(org)
        for r in (
            await client.get(url, headers=headers),
            await client.get(f"{url}/promotions", headers=headers),
            await client.patch(url, json={"national_platform_no": "X-1"}, headers=headers),
        ):
            assert (r.status_code, r.json()["code"]) == (404, "lesson_not_found")
        listed = await client.get("/lessons", headers=headers)
        assert str(lesson.id) not in listed.text
    r = await client.post(f"{url}/award", json={"award": "first"}, headers=tokens.admin(WEIHAI))
    assert (r.status_code, r.json()["code"]) == (404, "lesson_not_found")
    # Roles that never award or select are refused whatever the lesson.
    for headers in (tokens.admin(LIXIA), tokens.teacher(LIXIA_SCHOOL, lesson.teacher_id)):
        r = await client.post(f"{url}/award", json={"award": "first"}, headers=headers)
        assert r.status_code == 403
        r = await client.post(f"{url}/provincial-selection", headers=headers)
        assert r.status_code == 403
    r = await client.post(f"{url}/award", json={"award": "first"}, headers=tokens.admin(JINAN))
    assert r.status_code == 201, r.text


async def test_scores_are_for_admins_and_show_only_their_own_lessons(
    client: httpx.AsyncClient,
    tokens: Tokens,
    seed_lesson: SeedLesson,
    token_for: Callable[..., str],
) -> None:
    mine = await seed_lesson(level="city", school=LIXIA_SCHOOL)
    await seed_lesson(level="city", school=RONGCHENG_SCHOOL)
    query = {"year": mine.year, "stage": "primary", "subject": "语文"}
    for headers in (
        tokens.teacher(LIXIA_SCHOOL, mine.teacher_id),
        *(staff(token_for, role) for role in STAFF_ROLES),
    ):
        assert (await client.get("/scores", params=query, headers=headers)).status_code == 403
    r = await client.get("/scores", params=query, headers=tokens.admin(LIXIA))
    assert [i["lesson_id"] for i in r.json()["items"]] == [str(mine.id)]
    everyone = await client.get("/scores", params=query, headers=tokens.admin(PROVINCE))
    assert len(everyone.json()["items"]) == 2


async def _assigned(
    client: httpx.AsyncClient, tokens: Tokens, seed_lesson: SeedLesson
) -> tuple[uuid.UUID, uuid.UUID, list[dict[str, Any]]]:
    """A reviewer of Rongcheng with its assignments (project, reviewer id, assignments)."""
    project = uuid.uuid4()
    me = registration(project, RONGCHENG_SCHOOL)
    await publish(client, me)
    await eventually(lambda: _at_least(client, project, 1), timeout=30)
    for _ in range(3):
        await seed_lesson(level="city", school=LIXIA_SCHOOL)
    r = await client.post(
        "/allocations", json={"project_id": str(project), "seed": 7}, headers=tokens.admin(PROVINCE)
    )
    assert r.status_code == 201, r.text
    own = tokens.teacher(RONGCHENG_SCHOOL, me.teacher_id)
    got = await client.get("/assignments", params={"teacher_id": str(me.teacher_id)}, headers=own)
    assert got.status_code == 200 and len(got.json()) == 3
    return project, me.teacher_id, got.json()


async def test_assignments_are_seen_by_the_reviewer_and_the_admins_of_their_place_only(
    client: httpx.AsyncClient,
    tokens: Tokens,
    seed_lesson: SeedLesson,
    token_for: Callable[..., str],
) -> None:
    _project, reviewer, _ = await _assigned(client, tokens, seed_lesson)
    query = {"teacher_id": str(reviewer)}
    for headers in (
        tokens.teacher(RONGCHENG_SCHOOL),  # a colleague of the same school
        tokens.admin(LIXIA_SCHOOL[:3]),  # the lessons' county, not the reviewer's
        tokens.admin(JINAN),
        *(
            auth(token_for(role, RONGCHENG_SCHOOL, teacher_id=str(reviewer)))
            for role in STAFF_ROLES
        ),
    ):
        r = await client.get("/assignments", params=query, headers=headers)
        assert r.status_code == 200 and r.json() == []
    for org in (RONGCHENG_SCHOOL, RONGCHENG_SCHOOL[:3], WEIHAI, PROVINCE):
        r = await client.get("/assignments", params=query, headers=tokens.admin(org))
        assert len(r.json()) == 3


async def test_a_teacher_id_on_a_staff_token_neither_reviews_nor_flags(
    client: httpx.AsyncClient,
    tokens: Tokens,
    seed_lesson: SeedLesson,
    token_for: Callable[..., str],
) -> None:
    _project, reviewer, got = await _assigned(client, tokens, seed_lesson)
    body = {"assignment_id": got[0]["id"], "scores": SCORES, "comment": "教学目标清晰，互动充分。"}
    for role in ("workshop_host", "expert"):
        headers = auth(token_for(role, RONGCHENG_SCHOOL, teacher_id=str(reviewer)))
        r = await client.post("/reviews", json=body, headers=headers)
        assert (r.status_code, r.json()["code"]) == (404, "assignment_not_found")
        flag = await client.post(
            f"/lessons/{got[0]['lesson_id']}/flags", json={"reason": "疑似摆拍"}, headers=headers
        )
        assert (flag.status_code, flag.json()["code"]) == (403, "lesson_not_assigned")
        assert (await client.get("/reviews", headers=headers)).json()["items"] == []
    own = tokens.teacher(RONGCHENG_SCHOOL, reviewer)
    assert (await client.post("/reviews", json=body, headers=own)).status_code == 201
    mine = (await client.get("/reviews", headers=own)).json()["items"]
    assert len(mine) == 1
    colleague = tokens.teacher(RONGCHENG_SCHOOL)
    assert (await client.get("/reviews", headers=colleague)).json()["items"] == []


async def test_a_reviewers_assignments_follow_a_transfer(
    client: httpx.AsyncClient, tokens: Tokens, seed_lesson: SeedLesson
) -> None:
    _project, reviewer, _ = await _assigned(client, tokens, seed_lesson)
    to = SHIZHONG_SCHOOL
    place = OrgPath(province_id=to[0], city_id=to[1], county_id=to[2], school_id=to[3])
    old = RONGCHENG_SCHOOL
    await publish(
        client,
        TeacherTransferred(  # type: ignore[arg-type]
            teacher_id=reviewer,
            from_org=OrgPath(
                province_id=old[0], city_id=old[1], county_id=old[2], school_id=old[3]
            ),
            to_org=place,
            org=place,
            from_departed_pool=False,
            stage="primary",
            subject="语文",
            transferred_at=datetime.now(UTC),
        ),
    )
    query = {"teacher_id": str(reviewer)}

    async def moved() -> bool:
        r = await client.get("/assignments", params=query, headers=tokens.admin(to))
        return len(r.json()) == 3

    await eventually(moved, timeout=30)
    r = await client.get("/assignments", params=query, headers=tokens.admin(RONGCHENG_SCHOOL))
    assert r.json() == []


async def test_staged_lesson_flags_and_lesson_rows_stay_out_of_other_orgs_reach(
    client: httpx.AsyncClient, tokens: Tokens, seed_lesson: SeedLesson
) -> None:
    lesson: Lesson = await seed_lesson(level="city", school=LIXIA_SCHOOL)
    # A teacher who was never assigned the lesson cannot flag it.
    r = await client.post(
        f"/lessons/{lesson.id}/flags",
        json={"reason": "疑似摆拍"},
        headers=tokens.teacher(LIXIA_SCHOOL),
    )
    assert (r.status_code, r.json()["code"]) == (403, "lesson_not_assigned")
