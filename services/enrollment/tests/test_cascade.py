"""The registration cascade (报名流程): city opens counties, county opens schools, schools register
teachers by subject, county then city submit and lock their lists — each step in its window."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from typing import Any

import httpx
from sqlalchemy import select

from services.enrollment.tests.conftest import LIXIA_SCHOOL, RONGCHENG_SCHOOL
from services.enrollment.tests.test_registration import (
    TODAY,
    add_teacher,
    auth,
    open_project,
    open_units,
)

LIXIA_CITY = LIXIA_SCHOOL[:2]
LIXIA_COUNTY = LIXIA_SCHOOL[:3]


async def register(
    client: httpx.AsyncClient,
    token_for: Callable[..., str],
    project: dict[str, Any],
    teacher: dict[str, Any],
    subject: str = "语文",
    school: list[str] = LIXIA_SCHOOL,
) -> httpx.Response:
    return await client.post(
        f"/projects/{project['id']}/registrations",
        json={"teacher_id": teacher["id"], "subject": subject},
        headers=auth(token_for("school_admin", school)),
    )


async def event_types(client: httpx.AsyncClient) -> list[str]:
    rt = client.app.state.runtime  # type: ignore[attr-defined]
    async with rt.session_factory() as session:
        outbox = rt.spec.table("outbox")
        return list((await session.execute(select(outbox.c.event_type))).scalars().all())


async def test_county_cannot_open_schools_before_city_opens_it(
    client: httpx.AsyncClient, token_for: Callable[..., str]
) -> None:
    project = await open_project(client, token_for, cascade=False)
    url = f"/projects/{project['id']}/schools"
    county = auth(token_for("county_admin", LIXIA_COUNTY))
    r = await client.post(url, json={"org_ids": [LIXIA_SCHOOL[3]]}, headers=county)
    assert r.status_code == 409 and r.json()["code"] == "county_not_opened"
    await open_units(client, token_for, project["id"], LIXIA_SCHOOL)
    listed = await client.get(url, headers=county)
    assert [u["org_id"] for u in listed.json()["items"]] == [LIXIA_SCHOOL[3]]


async def test_school_cannot_register_unless_its_county_opened_it(
    client: httpx.AsyncClient, token_for: Callable[..., str]
) -> None:
    project = await open_project(client, token_for, cascade=False)
    teacher = await add_teacher(client, token_for, LIXIA_SCHOOL)
    r = await register(client, token_for, project, teacher)
    assert r.status_code == 409 and r.json()["code"] == "school_not_opened"


async def test_city_admin_opens_only_counties_of_its_city(
    client: httpx.AsyncClient, token_for: Callable[..., str]
) -> None:
    project = await open_project(client, token_for, cascade=False)
    r = await client.post(
        f"/projects/{project['id']}/counties",
        json={"org_ids": [RONGCHENG_SCHOOL[2]]},
        headers=auth(token_for("city_admin", LIXIA_CITY)),
    )
    assert r.status_code == 422 and r.json()["code"] == "not_a_county_of_your_city"
    school_admin = await client.post(
        f"/projects/{project['id']}/counties",
        json={"org_ids": [LIXIA_SCHOOL[2]]},
        headers=auth(token_for("school_admin", LIXIA_SCHOOL)),
    )
    assert school_admin.status_code == 403


async def test_opening_counties_refused_outside_its_window(
    client: httpx.AsyncClient, token_for: Callable[..., str]
) -> None:
    project = await open_project(
        client,
        token_for,
        cascade=False,
        counties_open_from=str(TODAY - timedelta(days=9)),
        counties_open_until=str(TODAY - timedelta(days=3)),
    )
    r = await client.post(
        f"/projects/{project['id']}/counties",
        json={"org_ids": [LIXIA_SCHOOL[2]]},
        headers=auth(token_for("city_admin", LIXIA_CITY)),
    )
    assert r.status_code == 409
    body = r.json()
    assert body["code"] == "step_outside_window"
    assert "开放参训区域" in body["detail"] and "Opening counties" in str(body)


async def test_registration_refused_outside_its_window(
    client: httpx.AsyncClient, token_for: Callable[..., str]
) -> None:
    project = await open_project(
        client, token_for, closes=TODAY - timedelta(days=1), opens=TODAY - timedelta(days=1)
    )
    teacher = await add_teacher(client, token_for, LIXIA_SCHOOL)
    r = await register(client, token_for, project, teacher)
    assert r.status_code == 409 and r.json()["code"] == "registration_closed"


async def test_unverified_teacher_cannot_register(
    client: httpx.AsyncClient, token_for: Callable[..., str]
) -> None:
    project = await open_project(client, token_for)
    teacher = await add_teacher(client, token_for, LIXIA_SCHOOL, verified=False)
    r = await register(client, token_for, project, teacher)
    assert r.status_code == 409 and r.json()["code"] == "teacher_not_verified"


async def test_subject_must_be_in_the_stages_catalogue(
    client: httpx.AsyncClient, token_for: Callable[..., str]
) -> None:
    project = await open_project(client, token_for)
    teacher = await add_teacher(client, token_for, LIXIA_SCHOOL)
    r = await register(client, token_for, project, teacher, subject="物理")  # not primary
    assert r.status_code == 422 and r.json()["code"] == "unknown_subject"


async def test_withdrawal_before_submission_emits_teacher_withdrawn(
    client: httpx.AsyncClient, token_for: Callable[..., str]
) -> None:
    project = await open_project(client, token_for)
    teacher = await add_teacher(client, token_for, LIXIA_SCHOOL)
    reg = (await register(client, token_for, project, teacher)).json()
    url = f"/projects/{project['id']}/registrations/{reg['id']}"
    other = await client.delete(url, headers=auth(token_for("school_admin", RONGCHENG_SCHOOL)))
    assert other.status_code == 404
    r = await client.delete(url, headers=auth(token_for("school_admin", LIXIA_SCHOOL)))
    assert r.status_code == 204
    assert "enrollment.teacher_withdrawn" in await event_types(client)
    again = await register(client, token_for, project, teacher, subject="数学")
    assert again.status_code == 201


async def test_submitted_unit_list_is_locked(
    client: httpx.AsyncClient, token_for: Callable[..., str]
) -> None:
    project = await open_project(client, token_for)
    first = await add_teacher(client, token_for, LIXIA_SCHOOL)
    second = await add_teacher(client, token_for, LIXIA_SCHOOL)
    reg = (await register(client, token_for, project, first)).json()
    county = auth(token_for("county_admin", LIXIA_COUNTY))
    r = await client.post(f"/projects/{project['id']}/submissions", headers=county)
    assert r.status_code == 201 and r.json()["level"] == "county"
    assert "enrollment.unit_submitted" in await event_types(client)
    late = await register(client, token_for, project, second)
    assert late.status_code == 409 and late.json()["code"] == "unit_list_locked"
    withdraw = await client.delete(
        f"/projects/{project['id']}/registrations/{reg['id']}",
        headers=auth(token_for("school_admin", LIXIA_SCHOOL)),
    )
    assert withdraw.status_code == 409 and withdraw.json()["code"] == "unit_list_locked"
    twice = await client.post(f"/projects/{project['id']}/submissions", headers=county)
    assert twice.status_code == 409 and twice.json()["code"] == "unit_already_submitted"
    schools = await client.post(
        f"/projects/{project['id']}/schools", json={"org_ids": [LIXIA_SCHOOL[3]]}, headers=county
    )
    assert schools.status_code == 409 and schools.json()["code"] == "unit_list_locked"


async def test_city_submits_only_after_all_its_counties(
    client: httpx.AsyncClient, token_for: Callable[..., str]
) -> None:
    project = await open_project(client, token_for)
    url = f"/projects/{project['id']}/submissions"
    city = auth(token_for("city_admin", LIXIA_CITY))
    early = await client.post(url, headers=city)
    assert early.status_code == 409 and early.json()["code"] == "counties_not_all_submitted"
    assert LIXIA_SCHOOL[2] in early.json()["detail"]
    county = auth(token_for("county_admin", LIXIA_COUNTY))
    assert (await client.post(url, headers=county)).status_code == 201
    r = await client.post(url, headers=city)
    assert r.status_code == 201 and r.json()["level"] == "city"
    listed = await client.get(url, headers=city)
    assert {s["org_id"] for s in listed.json()["items"]} == {LIXIA_SCHOOL[1], LIXIA_SCHOOL[2]}
    rongcheng = await client.get(url, headers=auth(token_for("city_admin", RONGCHENG_SCHOOL[:2])))
    assert rongcheng.json()["items"] == []


async def test_submission_refused_outside_its_window(
    client: httpx.AsyncClient, token_for: Callable[..., str]
) -> None:
    project = await open_project(
        client,
        token_for,
        submission_opens_on=str(TODAY + timedelta(days=31)),
        submission_closes_on=str(TODAY + timedelta(days=32)),
    )
    r = await client.post(
        f"/projects/{project['id']}/submissions",
        headers=auth(token_for("county_admin", LIXIA_COUNTY)),
    )
    assert r.status_code == 409 and r.json()["code"] == "step_outside_window"
    assert "提交培训报名管理任务" in r.json()["detail"]


async def test_registrations_page_by_cursor_within_scope(
    client: httpx.AsyncClient, token_for: Callable[..., str]
) -> None:
    project = await open_project(client, token_for)
    for subject in ("语文", "数学", "语文"):
        teacher = await add_teacher(client, token_for, LIXIA_SCHOOL)
        assert (await register(client, token_for, project, teacher, subject)).status_code == 201
    far = await add_teacher(client, token_for, RONGCHENG_SCHOOL)
    assert (
        await register(client, token_for, project, far, school=RONGCHENG_SCHOOL)
    ).status_code == 201
    url = f"/projects/{project['id']}/registrations"
    county = auth(token_for("county_admin", LIXIA_COUNTY))
    seen: list[str] = []
    cursor: str | None = None
    while True:
        params = {"limit": 2, **({"cursor": cursor} if cursor else {})}
        page = (await client.get(url, params=params, headers=county)).json()
        seen += [item["id"] for item in page["items"]]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert len(seen) == 3 and seen == sorted(seen)
    province = auth(token_for("province_admin", ["370000"]))
    everyone = (await client.get(url, headers=province)).json()
    assert len(everyone["items"]) == 4 and everyone["next_cursor"] is None
    chinese = await client.get(url, params={"subject": "语文"}, headers=county)
    assert len(chinese.json()["items"]) == 2
    outside = await client.get(url, params={"county_id": RONGCHENG_SCHOOL[2]}, headers=county)
    assert outside.status_code == 403
    bad = await client.get(url, params={"cursor": "not-a-cursor"}, headers=county)
    assert bad.status_code == 422 and bad.json()["code"] == "invalid_cursor"
