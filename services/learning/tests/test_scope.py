"""Who sees and changes what in learning (issue #12 point 1, issue #14 point 2): decided from the
org path learning stores (the plan's school, the schools read model fed by enrollment's events),
never from the caller's claims. A teacher reads only their own plan, progress and suggestions;
admins read those whose stored school lies in their subtree; a school's topic choice is read by
its own teachers and the admins covering it and written only by its own admin; records follow
the teacher to a new school."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from decimal import Decimal

import httpx
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from learning.models import Plan
from learning.progress.models import CourseProgress
from learning.schools.models import School
from services.learning.tests.conftest import OTHER_SCHOOL, SCHOOL, LearningWorld, SeededTeacher
from services.learning.tests.test_reviews import publish
from yanxiu.contracts.enrollment import TeacherCreated, TeacherDeparted, TeacherTransferred
from yanxiu.contracts.envelope import OrgPath
from yanxiu.testing import eventually

SAME_COUNTY_SCHOOL = [*SCHOOL[:3], "370102-S002"]
STAFF_ROLES = ("workshop_host", "expert", "training_institution", "provider")


def org(path: list[str]) -> OrgPath:
    return OrgPath(province_id=path[0], city_id=path[1], county_id=path[2], school_id=path[3])


async def topics(lx: LearningWorld, token: str, school: str = SCHOOL[3]) -> httpx.Response:
    return await lx.client.get(
        f"/schools/{school}/topics",
        params={"project_id": str(lx.project_id)},
        headers=lx.auth(token),
    )


async def teacher_reads(lx: LearningWorld, token: str, t: SeededTeacher) -> list[int]:
    """Status of each read of the teacher's learning records by the token's holder."""
    base = f"/plans/{t.teacher_id}"
    q = {"project_id": str(t.project_id)}
    return [
        (await lx.client.get(url, params=params, headers=lx.auth(token))).status_code
        for url, params in (
            (base, {}),
            (f"{base}/progress", {}),
            (f"{base}/suggestions", q),
            (f"/progress/{t.teacher_id}", {}),
        )
    ]


async def add_progress(lx: LearningWorld, t: SeededTeacher) -> uuid.UUID:
    course = await lx.seed_course(hours=1)
    row = CourseProgress(
        id=uuid.uuid4(),
        teacher_id=t.teacher_id,
        project_id=t.project_id,
        course_id=course.id,
        province_id=t.org_path[0],
        city_id=t.org_path[1],
        county_id=t.org_path[2],
        school_id=t.org_path[3],
        video_seconds=600,
    )

    async def add(session: AsyncSession) -> None:
        session.add(row)

    await lx.run(add)
    return row.id


# --- school topics ----------------------------------------------------------------------


async def test_admin_of_another_city_cannot_read_a_schools_topics(lx: LearningWorld) -> None:
    await lx.seed_rules()
    await lx.seed_school(SCHOOL)
    for token in (
        lx.token("city_admin", OTHER_SCHOOL[:2]),
        lx.token("county_admin", OTHER_SCHOOL[:3]),
        lx.school_admin_token(OTHER_SCHOOL),
        lx.school_admin_token(SAME_COUNTY_SCHOOL),
    ):
        r = await topics(lx, token)
        assert (r.status_code, r.json()["code"]) == (404, "school_not_found"), r.text


async def test_a_schools_topics_are_read_by_its_admins_and_its_own_teachers(
    lx: LearningWorld,
) -> None:
    await lx.seed_rules()
    mine = await lx.seed_plan()
    for token in (
        lx.province_token(),
        lx.token("city_admin", SCHOOL[:2]),
        lx.token("county_admin", SCHOOL[:3]),
        lx.school_admin_token(),
        mine.token,
    ):
        assert (await topics(lx, token)).status_code == 200
    elsewhere = await lx.seed_plan(org_path=OTHER_SCHOOL)
    assert (await topics(lx, elsewhere.token)).status_code == 404
    # A teacher token naming this school but no plan here learning knows of: not its teacher.
    stranger = lx.teacher_token(uuid.uuid4(), SCHOOL)
    assert (await topics(lx, stranger)).status_code == 404
    for role in STAFF_ROLES:
        assert (await topics(lx, lx.token(role, SCHOOL))).status_code == 404, role


async def test_unknown_school_is_404_for_everyone(lx: LearningWorld) -> None:
    await lx.seed_rules()
    r = await topics(lx, lx.province_token(), school="370102-S999")
    assert (r.status_code, r.json()["code"]) == (404, "school_not_found")
    own_admin = lx.school_admin_token([*SCHOOL[:3], "370102-S999"])
    put = await lx.client.put(
        "/schools/370102-S999/topics",
        json={"project_id": str(lx.project_id), "topic_ids": ["safety"]},
        headers=lx.auth(own_admin),
    )
    assert (put.status_code, put.json()["code"]) == (404, "school_not_found")


async def test_only_the_schools_own_admin_writes_its_topics(lx: LearningWorld) -> None:
    await lx.seed_rules()
    await lx.seed_school(SCHOOL)
    await lx.seed_school(OTHER_SCHOOL)

    async def put(token: str) -> httpx.Response:
        return await lx.client.put(
            f"/schools/{SCHOOL[3]}/topics",
            json={"project_id": str(lx.project_id), "topic_ids": ["safety"]},
            headers=lx.auth(token),
        )

    for token in (
        lx.token("county_admin", SCHOOL[:3]),
        lx.token("city_admin", SCHOOL[:2]),
        lx.province_token(),
        lx.teacher_token(uuid.uuid4()),
        *(lx.token(role, SCHOOL) for role in STAFF_ROLES),
    ):
        assert (await put(token)).status_code == 403
    r = await put(lx.school_admin_token(OTHER_SCHOOL))
    assert (r.status_code, r.json()["code"]) == (404, "school_not_found")
    assert (await put(lx.school_admin_token())).status_code == 200


async def test_schools_are_learned_from_enrollments_teacher_events(lx: LearningWorld) -> None:
    await lx.seed_rules()
    school = [*SCHOOL[:3], "370102-S042"]
    await publish(
        lx,
        TeacherCreated(
            teacher_id=uuid.uuid4(),
            teacher_name="新老师",
            gender="female",
            stage="primary",
            subject="数学",
            is_rural=False,
            status="active",
            verified=False,
            org=org(school),
            created_at=datetime.now(UTC),
        ),
    )

    async def known() -> bool:
        return bool(await lx.run(lambda s: s.get(School, school[3])))

    await eventually(known)
    assert (await topics(lx, lx.token("county_admin", SCHOOL[:3]), school[3])).status_code == 200
    r = await topics(lx, lx.token("county_admin", OTHER_SCHOOL[:3]), school[3])
    assert r.status_code == 404


# --- a teacher's own records ----------------------------------------------------------------


async def test_teacher_reads_only_their_own_plan_progress_and_suggestions(
    lx: LearningWorld,
) -> None:
    await lx.seed_rules()
    me = await lx.seed_plan()
    colleague = await lx.seed_plan()
    await add_progress(lx, me)
    await add_progress(lx, colleague)
    assert await teacher_reads(lx, me.token, me) == [200, 200, 200, 200]
    assert await teacher_reads(lx, me.token, colleague) == [404, 404, 404, 404]


async def test_teacher_id_on_a_non_teacher_token_grants_nothing(lx: LearningWorld) -> None:
    await lx.seed_rules()
    t = await lx.seed_plan()
    await add_progress(lx, t)
    for role in STAFF_ROLES:
        token = lx.token(role, SCHOOL, teacher_id=str(t.teacher_id))
        assert await teacher_reads(lx, token, t) == [404, 404, 404, 404], role


async def test_admins_read_the_plans_of_their_subtree_only(lx: LearningWorld) -> None:
    await lx.seed_rules()
    t = await lx.seed_plan()
    await add_progress(lx, t)
    for token in (
        lx.province_token(),
        lx.token("city_admin", SCHOOL[:2]),
        lx.token("county_admin", SCHOOL[:3]),
        lx.school_admin_token(),
    ):
        assert await teacher_reads(lx, token, t) == [200, 200, 200, 200]
    for token in (
        lx.token("city_admin", OTHER_SCHOOL[:2]),
        lx.token("county_admin", OTHER_SCHOOL[:3]),
        lx.school_admin_token(SAME_COUNTY_SCHOOL),
        lx.token("province_admin", ["440000"]),
    ):
        assert await teacher_reads(lx, token, t) == [404, 404, 404, 404]


async def test_school_based_hours_are_recorded_by_the_plans_own_school_admin_only(
    lx: LearningWorld,
) -> None:
    await lx.seed_rules()
    t = await lx.seed_plan()
    body = {"project_id": str(t.project_id), "record_id": "R-1", "title": "校本研修", "hours": "2"}
    url = f"/plans/{t.teacher_id}/school-based-hours"
    for token in (
        t.token,
        lx.token("county_admin", SCHOOL[:3]),
        *(lx.token(role, SCHOOL) for role in STAFF_ROLES),
    ):
        assert (await lx.client.post(url, json=body, headers=lx.auth(token))).status_code == 403
    other = lx.school_admin_token(SAME_COUNTY_SCHOOL)
    r = await lx.client.post(url, json=body, headers=lx.auth(other))
    assert (r.status_code, r.json()["code"]) == (404, "plan_not_found")
    r = await lx.client.post(url, json=body, headers=lx.auth(lx.school_admin_token()))
    assert r.status_code == 200 and r.json()["status"] == "recorded", r.text


async def test_refusal_counts_are_for_admins_inside_their_own_scope(lx: LearningWorld) -> None:
    for token in (lx.teacher_token(uuid.uuid4()), *(lx.token(r, SCHOOL) for r in STAFF_ROLES)):
        r = await lx.client.get("/progress/refusals", headers=lx.auth(token))
        assert r.status_code == 403
    other = lx.token("city_admin", OTHER_SCHOOL[:2])
    r = await lx.client.get(
        "/progress/refusals", params={"school_id": SCHOOL[3]}, headers=lx.auth(other)
    )
    assert r.status_code == 200 and r.json()["total"] == 0 and r.json()["items"] == []


async def test_a_teacher_drops_and_lists_only_their_own_selections(lx: LearningWorld) -> None:
    await lx.seed_rules()
    me = await lx.seed_plan()
    other = await lx.seed_plan()
    course = await lx.seed_course(topic_id="ethics", hours=2)
    r = await lx.client.post(
        "/selections",
        json={"project_id": str(other.project_id), "course_id": str(course.id)},
        headers=lx.auth(other.token),
    )
    assert r.status_code == 201, r.text
    theirs = r.json()["id"]
    gone = await lx.client.delete(f"/selections/{theirs}", headers=lx.auth(me.token))
    assert gone.status_code == 404
    admin = await lx.client.delete(
        f"/selections/{theirs}", headers=lx.auth(lx.school_admin_token())
    )
    assert admin.status_code == 404
    mine = await lx.client.get(
        "/selections", params={"project_id": str(me.project_id)}, headers=lx.auth(me.token)
    )
    assert mine.status_code == 200 and mine.json()["items"] == []


# --- records follow the teacher -------------------------------------------------------------


def transferred(t: SeededTeacher, to: list[str], *, from_pool: bool = False) -> TeacherTransferred:
    return TeacherTransferred(
        teacher_id=t.teacher_id,
        from_org=org(t.org_path),
        to_org=org(to),
        org=org(to),
        from_departed_pool=from_pool,
        stage="primary",
        subject=t.subject,
        transferred_at=datetime.now(UTC),
    )


async def plan_school(lx: LearningWorld, t: SeededTeacher) -> str:
    async def read(session: AsyncSession) -> str:
        plan = (await session.scalars(select(Plan).where(Plan.teacher_id == t.teacher_id))).one()
        return plan.school_id

    return str(await lx.run(read))


async def test_transferred_teachers_plan_and_progress_follow_to_the_new_school(
    lx: LearningWorld,
) -> None:
    await lx.seed_rules()
    t = await lx.seed_plan()
    progress_id = await add_progress(lx, t)
    await publish(lx, transferred(t, OTHER_SCHOOL))

    async def moved() -> bool:
        return await plan_school(lx, t) == OTHER_SCHOOL[3]

    await eventually(moved)
    row = await lx.run(lambda s: s.get(CourseProgress, progress_id))
    assert [row.province_id, row.city_id, row.county_id, row.school_id] == OTHER_SCHOOL
    for token in (lx.school_admin_token(), lx.token("county_admin", SCHOOL[:3])):
        assert await teacher_reads(lx, token, t) == [404, 404, 404, 404]
    for token in (lx.school_admin_token(OTHER_SCHOOL), lx.token("city_admin", OTHER_SCHOOL[:2])):
        assert await teacher_reads(lx, token, t) == [200, 200, 200, 200]
    moved_token = lx.teacher_token(t.teacher_id, OTHER_SCHOOL)
    assert await teacher_reads(lx, moved_token, t) == [200, 200, 200, 200]
    # The school-based hours of the plan are now the new school's to record.
    body = {"project_id": str(t.project_id), "record_id": "R-9", "title": "校本", "hours": "1"}
    url = f"/plans/{t.teacher_id}/school-based-hours"
    old = await lx.client.post(url, json=body, headers=lx.auth(lx.school_admin_token()))
    assert old.status_code == 404
    new = await lx.client.post(url, json=body, headers=lx.auth(lx.school_admin_token(OTHER_SCHOOL)))
    assert new.status_code == 200, new.text


async def test_after_a_transfer_selections_are_checked_against_the_new_schools_topics(
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
    safety = await lx.seed_course(topic_id="safety", hours=Decimal(2))
    labour = await lx.seed_course(topic_id="labour", hours=Decimal(2))
    await publish(lx, transferred(t, OTHER_SCHOOL))

    async def moved() -> bool:
        return await plan_school(lx, t) == OTHER_SCHOOL[3]

    await eventually(moved)
    token = lx.teacher_token(t.teacher_id, OTHER_SCHOOL)

    async def select(course_id: uuid.UUID) -> httpx.Response:
        return await lx.client.post(
            "/selections",
            json={"project_id": str(t.project_id), "course_id": str(course_id)},
            headers=lx.auth(token),
        )

    r = await select(safety.id)
    assert (r.status_code, r.json()["code"]) == (422, "topic_not_chosen_by_school")
    assert (await select(labour.id)).status_code == 201
    # The teacher reads the new school's topics, no longer the old school's.
    assert (await topics(lx, token, OTHER_SCHOOL[3])).status_code == 200
    assert (await topics(lx, token, SCHOOL[3])).status_code == 404


async def test_a_departed_teachers_plan_stays_at_the_school_they_left_until_taken_in(
    lx: LearningWorld,
) -> None:
    """(Suspension while departed: test_records_follow_the_teacher.py.)"""
    await lx.seed_rules()
    t = await lx.seed_plan()
    await publish(
        lx,
        TeacherDeparted(
            teacher_id=t.teacher_id,
            org=org(t.org_path),
            stage="primary",
            subject=t.subject,
            departed_at=datetime.now(UTC),
        ),
    )

    async def suspended() -> bool:
        async def read(session: AsyncSession) -> str:
            plan = (
                await session.scalars(select(Plan).where(Plan.teacher_id == t.teacher_id))
            ).one()
            return plan.status

        return str(await lx.run(read)) == "departed"

    await eventually(suspended)
    assert await plan_school(lx, t) == SCHOOL[3]
    # The school they left no longer manages them; the county above keeps the history.
    assert await teacher_reads(lx, lx.school_admin_token(), t) == [404, 404, 404, 404]
    county = lx.token("county_admin", SCHOOL[:3])
    assert await teacher_reads(lx, county, t) == [200, 200, 200, 200]
    await publish(lx, transferred(t, OTHER_SCHOOL, from_pool=True))

    async def taken_in() -> bool:
        return await plan_school(lx, t) == OTHER_SCHOOL[3]

    await eventually(taken_in)
    assert await teacher_reads(lx, lx.school_admin_token(), t) == [404, 404, 404, 404]
    assert await teacher_reads(lx, county, t) == [404, 404, 404, 404]


async def test_only_a_teacher_token_posts_heartbeats_and_assessments_for_itself(
    lx: LearningWorld,
) -> None:
    await lx.seed_rules()
    t = await lx.seed_plan()
    course = await lx.seed_course(hours=1)
    beat = {
        "course_id": str(course.id),
        "project_id": str(t.project_id),
        "device_session_id": "device-0001",
        "position": 0,
    }
    answers = {"course_id": str(course.id), "project_id": str(t.project_id), "answers": {}}
    for token in (
        lx.school_admin_token(),
        *(lx.token(role, SCHOOL, teacher_id=str(t.teacher_id)) for role in STAFF_ROLES),
    ):
        for url, body in (
            ("/progress", beat),
            ("/progress/batch", {"heartbeats": [beat]}),
            ("/assessments", answers),
        ):
            r = await lx.client.post(url, json=body, headers=lx.auth(token))
            assert r.status_code == 403, (url, r.text)
