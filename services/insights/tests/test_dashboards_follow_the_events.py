"""The dashboards' numbers follow every service's events (issue #18 point 1), on the real broker
and database: the funnel at each level, drill-down, the trend, the teachers behind a number,
credits and offline records of the year, lessons and reviews; counted once whatever arrives
twice or out of order; moved by a transfer; visible within 2 s; scoped to the caller's subtree."""

from __future__ import annotations

import io
import time
import uuid
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any

import httpx
from openpyxl import load_workbook  # type: ignore[import-untyped]

from services.insights.tests.conftest import Feed
from yanxiu.contracts.credits import (
    CertificateIssued,
    CertificateRevoked,
    OfflineRecordChanged,
    YearTallied,
)
from yanxiu.contracts.enrollment import (
    ProjectOpened,
    TeacherRegistered,
    TeacherTransferred,
    TeacherWithdrawn,
)
from yanxiu.contracts.envelope import OrgPath
from yanxiu.contracts.learning import (
    CourseCompleted,
    CourseCompletionRevoked,
    PlanChanged,
    RequirementsMet,
    RequirementsUnmet,
    StudyStarted,
)
from yanxiu.contracts.lessons import (
    LessonPromoted,
    LessonSubmitted,
    ReviewsAllocated,
    ReviewSubmitted,
)

YEAR = 2026
NOW = datetime(2026, 11, 20, 2, 0, tzinfo=UTC)  # 10:00 in Shanghai
PROVINCE = ["370000"]
JINAN = ["370000", "370100"]
LIXIA = ["370000", "370100", "370102"]
SHIZHONG = ["370000", "370100", "370103"]
LIXIA_S1 = OrgPath(
    province_id="370000", city_id="370100", county_id="370102", school_id="370102-S1"
)
LIXIA_S2 = OrgPath(
    province_id="370000", city_id="370100", county_id="370102", school_id="370102-S2"
)
SHIZHONG_S1 = OrgPath(
    province_id="370000", city_id="370100", county_id="370103", school_id="370103-S1"
)
WEIHAI_S1 = OrgPath(
    province_id="370000", city_id="371000", county_id="371002", school_id="371002-S1"
)
Admin = Callable[[list[str]], dict[str, str]]


def opened(project_id: uuid.UUID) -> ProjectOpened:
    return ProjectOpened(
        project_id=project_id,
        year=YEAR,
        stage="primary",
        name="2026年小学教师全员培训",
        registration_opens_on=date(2026, 9, 1),
        registration_closes_on=date(2026, 10, 31),
    )


def registered(
    project_id: uuid.UUID,
    teacher_id: uuid.UUID,
    org: OrgPath,
    *,
    name: str = "张三丰",
    subject: str = "语文",
    rural: bool = False,
    at: datetime = NOW,
) -> TeacherRegistered:
    return TeacherRegistered(
        registration_id=uuid.uuid4(),
        project_id=project_id,
        project_year=YEAR,
        teacher_id=teacher_id,
        teacher_name=name,
        stage="primary",
        subject=subject,
        is_rural=rural,
        org=org,
        registered_at=at,
    )


def plan(
    project_id: uuid.UUID, teacher_id: uuid.UUID, org: OrgPath, status: str = "active"
) -> PlanChanged:
    return PlanChanged(
        teacher_id=teacher_id,
        project_id=project_id,
        project_year=YEAR,
        status=status,  # type: ignore[arg-type]
        org=org,
        changed_at=NOW,
    )


def started(
    project_id: uuid.UUID, teacher_id: uuid.UUID, org: OrgPath, at: datetime = NOW
) -> StudyStarted:
    return StudyStarted(
        teacher_id=teacher_id, project_id=project_id, project_year=YEAR, org=org, started_at=at
    )


def met(
    project_id: uuid.UUID, teacher_id: uuid.UUID, org: OrgPath, at: datetime = NOW
) -> RequirementsMet:
    return RequirementsMet(
        evaluation_id=uuid.uuid4(),
        teacher_id=teacher_id,
        project_id=project_id,
        project_year=YEAR,
        rule_set="shandong-2023",
        hours_by_category={"subject_required": Decimal(30)},
        total_hours=Decimal(30),
        org=org,
        met_at=at,
    )


def completed(
    project_id: uuid.UUID,
    teacher_id: uuid.UUID,
    org: OrgPath,
    *,
    hours: str,
    category: str = "subject_required",
    course_id: uuid.UUID | None = None,
) -> CourseCompleted:
    return CourseCompleted(
        completion_id=uuid.uuid4(),
        teacher_id=teacher_id,
        project_id=project_id,
        project_year=YEAR,
        course_id=course_id or uuid.uuid4(),
        course_title="课程",
        category=category,
        hours=Decimal(hours),
        source="video",
        org=org,
        completed_at=NOW,
    )


async def get(client: httpx.AsyncClient, path: str, headers: dict[str, str], **params: Any) -> Any:
    r = await client.get(path, headers=headers, params=params)
    assert r.status_code == 200, r.text
    return r.json()


async def funnel(
    client: httpx.AsyncClient, project_id: uuid.UUID, headers: dict[str, str], **params: Any
) -> dict[str, int]:
    body = await get(client, f"/projects/{project_id}/overview", headers, **params)
    result: dict[str, int] = body["funnel"]
    return result


async def test_the_funnel_counts_each_teacher_once_at_every_level_above_their_school(
    client: httpx.AsyncClient, feed: Feed, admin: Admin
) -> None:
    p = uuid.uuid4()
    a, b, c, d = (uuid.uuid4() for _ in range(4))
    await feed(
        opened(p),
        registered(p, a, LIXIA_S1),
        registered(p, b, LIXIA_S2, rural=True),
        registered(p, c, SHIZHONG_S1),
        registered(p, d, WEIHAI_S1),
        plan(p, a, LIXIA_S1),
        plan(p, b, LIXIA_S2),
        plan(p, c, SHIZHONG_S1),
        started(p, a, LIXIA_S1),
        started(p, c, SHIZHONG_S1),
        met(p, a, LIXIA_S1),
        completed(p, a, LIXIA_S1, hours="12.5"),
        completed(p, a, LIXIA_S1, hours="3", category="general_elective"),
    )
    province = await funnel(client, p, admin(PROVINCE))
    assert province | {} == {
        "registered": 4,
        "plan_active": 3,
        "started": 2,
        "requirements_met": 1,
        "credits_registered": 0,
        "year_complete": 0,
        "certificates_issued": 0,
    }
    assert (await funnel(client, p, admin(JINAN)))["registered"] == 3
    lixia = await funnel(client, p, admin(LIXIA))
    assert (lixia["registered"], lixia["started"], lixia["requirements_met"]) == (2, 1, 1)
    assert (await funnel(client, p, admin(LIXIA), rural="true"))["registered"] == 1
    assert (await funnel(client, p, admin(PROVINCE), subject="数学"))["registered"] == 0
    body = await get(client, f"/projects/{p}/overview", admin(LIXIA))
    assert body["hours_by_category"] == {"general_elective": "3", "subject_required": "12.5"}
    assert body["org"] == {"org_id": "370102", "name": "370102", "level": "county"}
    assert [o["org_id"] for o in body["path"]] == ["370102"]


async def test_drill_down_shows_each_child_org_with_its_own_numbers(
    client: httpx.AsyncClient, feed: Feed, admin: Admin
) -> None:
    p = uuid.uuid4()
    a, b, c = (uuid.uuid4() for _ in range(3))
    await feed(
        opened(p),
        registered(p, a, LIXIA_S1),
        registered(p, b, LIXIA_S2),
        registered(p, c, SHIZHONG_S1),
        met(p, a, LIXIA_S1),
    )
    cities = await get(client, f"/projects/{p}/orgs", admin(PROVINCE))
    assert [(o["org_id"], o["level"], o["registered"]) for o in cities["items"]] == [
        ("370100", "city", 3)
    ]
    counties = await get(client, f"/projects/{p}/orgs", admin(PROVINCE), org_id="370100")
    rows = {o["org_id"]: o for o in counties["items"]}
    assert rows["370102"]["registered"] == 2 and rows["370102"]["met_rate"] == 0.5
    assert rows["370103"]["registered"] == 1 and rows["370103"]["met_rate"] == 0.0
    chinese = await get(
        client, f"/projects/{p}/orgs", admin(PROVINCE), org_id="370100", subject="语文"
    )
    assert {o["org_id"]: o["registered"] for o in chinese["items"]} == {"370102": 2, "370103": 1}
    maths = await get(
        client, f"/projects/{p}/orgs", admin(PROVINCE), org_id="370100", subject="数学"
    )
    assert all(o["registered"] == 0 for o in maths["items"])
    schools = await get(client, f"/projects/{p}/orgs", admin(JINAN), org_id="370102")
    assert sorted(o["org_id"] for o in schools["items"]) == ["370102-S1", "370102-S2"]
    assert all(not o["has_children"] for o in schools["items"])
    overview = await get(client, f"/projects/{p}/overview", admin(PROVINCE), org_id="370102")
    assert [o["org_id"] for o in overview["path"]] == ["370000", "370100", "370102"]

    sheet = await client.get(f"/projects/{p}/orgs.xlsx", headers=admin(JINAN))
    assert sheet.status_code == 200
    book = load_workbook(io.BytesIO(sheet.content))
    rows_in_sheet = list(book.active.iter_rows(min_row=3, values_only=True))
    assert sorted((r[1], r[2]) for r in rows_in_sheet) == [("370102", 2), ("370103", 1)]


async def test_a_county_reads_its_own_subtree_and_nothing_beside_it(
    client: httpx.AsyncClient, feed: Feed, admin: Admin, token_for: Callable[..., str]
) -> None:
    p = uuid.uuid4()
    await feed(
        opened(p), registered(p, uuid.uuid4(), LIXIA_S1), registered(p, uuid.uuid4(), SHIZHONG_S1)
    )
    lixia = admin(LIXIA)
    for path in ("overview", "orgs", "trend", "teachers"):
        r = await client.get(f"/projects/{p}/{path}", headers=lixia, params={"org_id": "370103"})
        assert r.status_code == 403, (path, r.text)
        assert r.headers["content-type"].startswith("application/problem+json")
        assert r.json()["code"] == "out_of_scope"
    r = await client.get(f"/projects/{p}/overview", headers=lixia, params={"org_id": "370100"})
    assert r.status_code == 403
    token = token_for("teacher", LIXIA_S1.as_list(), teacher_id=str(uuid.uuid4()))
    teacher = {"Authorization": f"Bearer {token}"}
    r = await client.get(f"/projects/{p}/overview", headers=teacher)
    assert r.status_code == 403 and r.json()["code"] == "dashboard_not_allowed"
    r = await client.get(f"/projects/{uuid.uuid4()}/overview", headers=lixia)
    assert r.status_code == 404 and r.json()["code"] == "project_not_found"
    r = await client.get(
        f"/projects/{p}/overview", headers=admin(PROVINCE), params={"org_id": "nowhere"}
    )
    assert r.status_code == 404 and r.json()["code"] == "org_not_found"
    r = await client.get(f"/projects/{p}/overview")
    assert r.status_code == 401


async def test_an_event_delivered_twice_or_before_the_registration_counts_once(
    client: httpx.AsyncClient, feed: Feed, admin: Admin
) -> None:
    p = uuid.uuid4()
    t = uuid.uuid4()
    # Learning's facts arrive before enrollment's registration (two topics, no order between).
    early = await feed(opened(p), met(p, t, LIXIA_S1), started(p, t, LIXIA_S1))
    assert (await funnel(client, p, admin(LIXIA)))["requirements_met"] == 0
    await feed(registered(p, t, LIXIA_S1))
    # The same envelopes again (a redelivery), and a re-sent snapshot (a resync: new ids).
    await feed.send(*early)
    await feed(registered(p, t, LIXIA_S1), met(p, t, LIXIA_S1, at=NOW + timedelta(days=3)))
    f = await funnel(client, p, admin(PROVINCE))
    assert (f["registered"], f["started"], f["requirements_met"]) == (1, 1, 1)
    trend = await get(client, f"/projects/{p}/trend", admin(PROVINCE), days=366)
    met_days = [pt for pt in trend["items"] if pt["requirements_met"]]
    assert met_days[0]["day"] == "2026-11-20"  # the first time it was reached


async def test_a_transfer_moves_the_teachers_numbers_and_a_withdrawal_removes_them(
    client: httpx.AsyncClient, feed: Feed, admin: Admin
) -> None:
    p = uuid.uuid4()
    t, u = uuid.uuid4(), uuid.uuid4()
    await feed(
        opened(p),
        registered(p, t, LIXIA_S1),
        registered(p, u, LIXIA_S1),
        met(p, t, LIXIA_S1),
    )
    await feed(
        TeacherTransferred(
            teacher_id=t,
            from_org=LIXIA_S1,
            to_org=WEIHAI_S1,
            org=WEIHAI_S1,
            from_departed_pool=False,
            stage="primary",
            subject="语文",
            transferred_at=NOW,
        ),
        TeacherWithdrawn(
            registration_id=uuid.uuid4(), project_id=p, teacher_id=u, org=LIXIA_S1, withdrawn_at=NOW
        ),
    )
    assert (await funnel(client, p, admin(LIXIA)))["registered"] == 0
    weihai = await funnel(client, p, admin(["370000", "371000"]))
    assert (weihai["registered"], weihai["requirements_met"]) == (1, 1)
    province = await funnel(client, p, admin(PROVINCE))
    assert (province["registered"], province["requirements_met"]) == (1, 1)
    cities = await get(client, f"/projects/{p}/orgs", admin(PROVINCE))
    assert {o["org_id"]: (o["registered"], o["requirements_met"]) for o in cities["items"]} == {
        "370100": (0, 0),
        "371000": (1, 1),
    }
    await feed(
        RequirementsUnmet(
            evaluation_id=uuid.uuid4(),
            teacher_id=t,
            project_id=p,
            project_year=YEAR,
            rule_set="shandong-2023",
            hours_by_category={},
            total_hours=Decimal(0),
            reason="statement voided",
            org=WEIHAI_S1,
            unmet_at=NOW,
        )
    )
    assert (await funnel(client, p, admin(PROVINCE)))["requirements_met"] == 0


async def test_hours_count_each_course_once_and_leave_with_a_revoked_completion(
    client: httpx.AsyncClient, feed: Feed, admin: Admin
) -> None:
    p, t, course = uuid.uuid4(), uuid.uuid4(), uuid.uuid4()
    first = completed(p, t, LIXIA_S1, hours="4", course_id=course)
    await feed(opened(p), registered(p, t, LIXIA_S1), first)
    await feed(completed(p, t, LIXIA_S1, hours="4", course_id=course))  # the same course again
    other = completed(p, t, LIXIA_S1, hours="2.5")
    await feed(other)
    body = await get(client, f"/projects/{p}/overview", admin(LIXIA))
    assert body["hours_by_category"] == {"subject_required": "6.5"}
    assert body["funnel"]["started"] == 1  # a completion is a start
    await feed(
        CourseCompletionRevoked(
            completion_id=other.completion_id,
            teacher_id=t,
            project_id=p,
            project_year=YEAR,
            reason="voided",
            org=LIXIA_S1,
            revoked_at=NOW,
        )
    )
    body = await get(client, f"/projects/{p}/overview", admin(LIXIA))
    assert body["hours_by_category"] == {"subject_required": "4"}


async def test_the_teachers_behind_a_number_are_paged_and_masked(
    client: httpx.AsyncClient, feed: Feed, admin: Admin
) -> None:
    p = uuid.uuid4()
    teachers = sorted(uuid.uuid4() for _ in range(5))
    await feed(
        opened(p),
        *(registered(p, t, LIXIA_S1, name="欧阳娜娜") for t in teachers),
        *(started(p, t, LIXIA_S1) for t in teachers[:2]),
    )
    page = await get(client, f"/projects/{p}/teachers", admin(LIXIA), limit=3)
    assert [r["teacher_id"] for r in page["items"]] == [str(t) for t in teachers[:3]]
    assert {r["name"] for r in page["items"]} == {"欧***"}
    rest = await get(
        client, f"/projects/{p}/teachers", admin(LIXIA), limit=3, cursor=page["next_cursor"]
    )
    assert [r["teacher_id"] for r in rest["items"]] == [str(t) for t in teachers[3:]]
    assert rest["next_cursor"] is None
    idle = await get(client, f"/projects/{p}/teachers", admin(LIXIA), metric="not_started")
    assert [r["teacher_id"] for r in idle["items"]] == [str(t) for t in teachers[2:]]
    school = await get(
        client, f"/projects/{p}/teachers", admin(PROVINCE), metric="started", org_id="370102-S1"
    )
    assert len(school["items"]) == 2
    r = await client.get(f"/projects/{p}/teachers", headers=admin(LIXIA), params={"metric": "x"})
    assert r.status_code == 422 and r.headers["content-type"].startswith("application/problem+json")


async def test_credits_certificates_and_offline_records_count_in_the_projects_year(
    client: httpx.AsyncClient, feed: Feed, admin: Admin, token_for: Callable[..., str]
) -> None:
    p, t, u = uuid.uuid4(), uuid.uuid4(), uuid.uuid4()
    cert = uuid.uuid4()
    rec1, rec2, rec3 = uuid.uuid4(), uuid.uuid4(), uuid.uuid4()

    def record(
        rid: uuid.UUID, status: str, at: datetime, org: OrgPath = LIXIA_S1
    ) -> OfflineRecordChanged:
        return OfflineRecordChanged(
            record_id=rid,
            teacher_id=t,
            year=YEAR,
            status=status,  # type: ignore[arg-type]
            category="offline",
            hours=Decimal(6),
            org=org,
            changed_at=at,
        )

    await feed(
        opened(p),
        registered(p, t, LIXIA_S1),
        YearTallied(
            teacher_id=t,
            year=YEAR,
            total_hours=Decimal(20),
            complete=False,
            org=LIXIA_S1,
            tallied_at=NOW,
        ),
        YearTallied(
            teacher_id=u,
            year=YEAR,
            total_hours=Decimal(90),
            complete=True,
            org=LIXIA_S2,
            tallied_at=NOW,
        ),
        CertificateIssued(
            certificate_id=cert, teacher_id=u, year=YEAR, org=LIXIA_S2, issued_at=NOW
        ),
        record(rec1, "submitted", NOW),
        record(rec2, "submitted", NOW),
        record(rec3, "submitted", NOW, SHIZHONG_S1),
    )
    await feed(record(rec2, "county_passed", NOW + timedelta(hours=1)))
    f = await funnel(client, p, admin(LIXIA))
    assert (f["credits_registered"], f["year_complete"], f["certificates_issued"]) == (2, 1, 1)
    body = await get(client, f"/projects/{p}/overview", admin(JINAN))
    assert body["offline_waiting"] == {"county_review": 2, "city_approval": 1}

    county = await get(client, "/waiting", admin(LIXIA))
    assert [(r["record_id"], r["status_zh"]) for r in county["items"]] == [(str(rec1), "待初审")]
    city = await get(client, "/waiting", admin(JINAN))
    assert [r["record_id"] for r in city["items"]] == [str(rec2)]
    shizhong = await get(client, "/waiting", admin(SHIZHONG))
    assert [r["record_id"] for r in shizhong["items"]] == [str(rec3)]

    await feed(
        CertificateRevoked(
            certificate_id=cert,
            teacher_id=u,
            year=YEAR,
            reason="年度未达标",
            org=LIXIA_S2,
            revoked_at=NOW,
        ),
        record(rec2, "approved", NOW + timedelta(hours=2)),
    )
    f = await funnel(client, p, admin(LIXIA))
    assert f["certificates_issued"] == 0
    body = await get(client, f"/projects/{p}/overview", admin(JINAN))
    assert body["offline_waiting"] == {"county_review": 2, "city_approval": 0}


async def test_lessons_selected_at_each_level_and_reviews_assigned_and_done(
    client: httpx.AsyncClient, feed: Feed, admin: Admin
) -> None:
    p, author, reviewer = uuid.uuid4(), uuid.uuid4(), uuid.uuid4()
    lesson = uuid.uuid4()
    a1 = uuid.uuid4()
    common: dict[str, Any] = {"stage": "primary", "subject": "语文"}
    await feed(
        opened(p),
        registered(p, reviewer, SHIZHONG_S1),
        LessonSubmitted(
            lesson_id=lesson,
            teacher_id=author,
            year=YEAR,
            lesson_title="大青树下的小学",
            org=LIXIA_S1,
            submitted_at=NOW,
            **common,
        ),
        *(
            LessonPromoted(
                lesson_id=lesson,
                teacher_id=author,
                year=YEAR,
                level=level,
                org=LIXIA_S1,
                promoted_at=NOW,
                **common,
            )
            for level in ("school", "county", "city")
        ),
        ReviewsAllocated(
            project_id=p,
            project_year=YEAR,
            province_id="370000",
            city_id="370100",
            county_id="370103",
            schools={SHIZHONG_S1.school_id: 2},
            allocated_at=NOW,
        ),
    )
    await feed(
        ReviewSubmitted(
            review_id=uuid.uuid4(),
            assignment_id=a1,
            reviewer_id=reviewer,
            lesson_id=lesson,
            project_id=p,
            project_year=YEAR,
            total_score=Decimal(88),
            org=SHIZHONG_S1,
            submitted_at=NOW,
            **common,
        )
    )
    body = await get(client, f"/projects/{p}/overview", admin(JINAN))
    assert body["lessons"] == {
        "submitted": 1,
        "school": 1,
        "county": 1,
        "city": 1,
        "province": 0,
        "awarded": 0,
    }
    assert body["reviews"] == {"assigned": 2, "done": 1}
    lixia = await get(client, f"/projects/{p}/overview", admin(LIXIA))
    assert lixia["reviews"] == {"assigned": 0, "done": 0}  # counted where the reviewer is
    assert lixia["lessons"]["city"] == 1  # and lessons where their author is


async def test_an_event_is_in_the_numbers_within_two_seconds(
    client: httpx.AsyncClient, feed: Feed, admin: Admin
) -> None:
    p = uuid.uuid4()
    await feed(opened(p), registered(p, uuid.uuid4(), LIXIA_S1))
    headers = admin(PROVINCE)
    for _ in range(3):
        before = (await funnel(client, p, headers))["registered"]
        sent_at = time.monotonic()
        await feed.send(registered(p, uuid.uuid4(), LIXIA_S1))
        while (await funnel(client, p, headers))["registered"] == before:
            assert time.monotonic() - sent_at < 2.0, "not visible within 2 s"
        assert time.monotonic() - sent_at < 2.0
