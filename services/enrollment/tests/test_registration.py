"""Registration of teachers in a yearly project (项目报名), as far as the foundation slice goes."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import date, timedelta
from typing import Any

import httpx
from sqlalchemy import func, select

from enrollment.idcard import check_digit
from enrollment.models import Registration, Teacher
from services.enrollment.tests.conftest import LIXIA_SCHOOL, RONGCHENG_SCHOOL

TODAY = date.today()
_serial = iter(range(1, 10**6))


def new_id_number(region: str = "370102", born: str = "19850101") -> str:
    first17 = f"{region}{born}{next(_serial) % 1000:03d}"
    return first17 + check_digit(first17)


def auth(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


async def open_project(
    client: httpx.AsyncClient,
    token_for: Callable[..., str],
    *,
    stage: str = "primary",
    opens: date | None = None,
    closes: date | None = None,
    cascade: bool = True,
    **windows: str,
) -> dict[str, Any]:
    """A project whose counties and schools windows include today; with `cascade`, both test
    counties and their schools are opened for it."""
    r = await client.post(
        "/projects",
        headers=auth(token_for("province_admin", ["370000"])),
        json={
            "year": TODAY.year,
            "stage": stage,
            "name": f"{TODAY.year}年互联网+教师专业发展 小学",
            "counties_open_from": str(TODAY - timedelta(days=2)),
            "counties_open_until": str(TODAY + timedelta(days=30)),
            "schools_open_from": str(TODAY - timedelta(days=2)),
            "schools_open_until": str(TODAY + timedelta(days=30)),
            "registration_opens_on": str(opens or TODAY - timedelta(days=1)),
            "registration_closes_on": str(closes or TODAY + timedelta(30)),
            **windows,
        },
    )
    assert r.status_code == 201, r.text
    project = dict(r.json())
    if cascade:
        for school in (LIXIA_SCHOOL, RONGCHENG_SCHOOL):
            await open_units(client, token_for, project["id"], school)
    return project


async def open_units(
    client: httpx.AsyncClient, token_for: Callable[..., str], project_id: str, school: list[str]
) -> None:
    """开放参训区域 then 参训单位: the city opens the school's county, the county the school."""
    city = auth(token_for("city_admin", school[:2]))
    r = await client.post(
        f"/projects/{project_id}/counties", json={"org_ids": [school[2]]}, headers=city
    )
    assert r.status_code == 200, r.text
    county = auth(token_for("county_admin", school[:3]))
    r = await client.post(
        f"/projects/{project_id}/schools", json={"org_ids": [school[3]]}, headers=county
    )
    assert r.status_code == 200, r.text


async def verify(client: httpx.AsyncClient, teacher_id: str, verified: bool = True) -> None:
    """Marks a record verified straight in the database (the verify endpoint is not ours)."""
    rt = client.app.state.runtime  # type: ignore[attr-defined]
    async with rt.session_factory() as session, session.begin():
        teacher = await session.get(Teacher, uuid.UUID(teacher_id))
        assert teacher is not None
        teacher.verified = verified


async def add_teacher(
    client: httpx.AsyncClient,
    token_for: Callable[..., str],
    school: list[str],
    *,
    verified: bool = True,
    **extra: Any,
) -> dict[str, Any]:
    body = {
        "name": "李老师",
        "school_id": school[-1],
        "stage": "primary",
        "subject": "语文",
        "is_rural": False,
        "id_number": new_id_number(),
        **extra,
    }
    r = await client.post("/teachers", json=body, headers=auth(token_for("school_admin", school)))
    assert r.status_code == 201, r.text
    if verified:
        await verify(client, r.json()["id"])
    return dict(r.json())


async def test_school_admin_registers_own_teacher_and_event_is_recorded(
    client: httpx.AsyncClient, token_for: Callable[..., str]
) -> None:
    project = await open_project(client, token_for)
    teacher = await add_teacher(client, token_for, LIXIA_SCHOOL)
    r = await client.post(
        f"/projects/{project['id']}/registrations",
        json={"teacher_id": teacher["id"], "subject": "语文"},
        headers=auth(token_for("school_admin", LIXIA_SCHOOL)),
    )
    assert r.status_code == 201, r.text
    rt = client.app.state.runtime  # type: ignore[attr-defined]
    async with rt.session_factory() as session:
        outbox = rt.spec.table("outbox")
        types = (await session.execute(select(outbox.c.event_type))).scalars().all()
    assert "enrollment.teacher_registered" in types


async def test_teacher_registers_for_exactly_one_subject_per_project(
    client: httpx.AsyncClient, token_for: Callable[..., str]
) -> None:
    project = await open_project(client, token_for)
    teacher = await add_teacher(client, token_for, LIXIA_SCHOOL)
    url = f"/projects/{project['id']}/registrations"
    headers = auth(token_for("school_admin", LIXIA_SCHOOL))
    assert (
        await client.post(
            url, json={"teacher_id": teacher["id"], "subject": "语文"}, headers=headers
        )
    ).status_code == 201
    again = await client.post(
        url, json={"teacher_id": teacher["id"], "subject": "数学"}, headers=headers
    )
    assert again.status_code == 409
    assert again.headers["content-type"].startswith("application/problem+json")
    assert again.json()["code"] == "already_registered"


async def test_school_admin_cannot_register_another_countys_teacher(
    client: httpx.AsyncClient, token_for: Callable[..., str]
) -> None:
    project = await open_project(client, token_for)
    teacher = await add_teacher(client, token_for, RONGCHENG_SCHOOL)
    r = await client.post(
        f"/projects/{project['id']}/registrations",
        json={"teacher_id": teacher["id"], "subject": "语文"},
        headers=auth(token_for("school_admin", LIXIA_SCHOOL)),
    )
    assert r.status_code == 404
    assert r.json()["code"] == "teacher_not_found"


async def test_registration_outside_its_window_is_refused(
    client: httpx.AsyncClient, token_for: Callable[..., str]
) -> None:
    project = await open_project(
        client, token_for, opens=TODAY + timedelta(days=5), closes=TODAY + timedelta(days=9)
    )
    teacher = await add_teacher(client, token_for, LIXIA_SCHOOL)
    r = await client.post(
        f"/projects/{project['id']}/registrations",
        json={"teacher_id": teacher["id"], "subject": "语文"},
        headers=auth(token_for("school_admin", LIXIA_SCHOOL)),
    )
    assert r.status_code == 409
    body = r.json()
    assert body["code"] == "registration_closed" and "报名时间" in body["detail"]


async def test_county_admin_cannot_read_a_teacher_of_another_county(
    client: httpx.AsyncClient, token_for: Callable[..., str]
) -> None:
    teacher = await add_teacher(client, token_for, LIXIA_SCHOOL)
    rongcheng = auth(token_for("county_admin", RONGCHENG_SCHOOL[:3]))
    assert (await client.get(f"/teachers/{teacher['id']}", headers=rongcheng)).status_code == 404
    lixia = auth(token_for("county_admin", LIXIA_SCHOOL[:3]))
    assert (await client.get(f"/teachers/{teacher['id']}", headers=lixia)).status_code == 200


async def test_only_the_province_or_the_owning_city_opens_projects(
    client: httpx.AsyncClient, token_for: Callable[..., str]
) -> None:
    """A county cannot open a project; a city opens only its own (city-run) programme, not
    one owned by its province (tests/test_regions.py covers owners in full)."""
    body = {
        "year": 2030,
        "stage": "primary",
        "name": "x",
        "registration_opens_on": "2030-08-11",
        "registration_closes_on": "2030-09-15",
    }
    county = auth(token_for("county_admin", LIXIA_SCHOOL[:3]))
    r = await client.post("/projects", headers=county, json=body)
    assert r.status_code == 403 and r.json()["code"] == "forbidden"
    city = auth(token_for("city_admin", ["370000", "370100"]))
    r = await client.post("/projects", headers=city, json={**body, "owner_org_id": "370000"})
    assert r.status_code == 403 and r.json()["code"] == "out_of_scope"
    r = await client.post("/projects", headers=city, json=body)
    assert r.status_code == 201 and r.json()["owner_org_id"] == "370100"


async def test_bad_input_gets_problem_json_with_fields_and_writes_nothing(
    client: httpx.AsyncClient, token_for: Callable[..., str]
) -> None:
    r = await client.post(
        "/teachers",
        headers=auth(token_for("school_admin", LIXIA_SCHOOL)),
        json={"name": "", "school_id": LIXIA_SCHOOL[-1], "stage": "college", "subject": "语文"},
    )
    assert r.status_code == 422
    assert r.headers["content-type"].startswith("application/problem+json")
    fields = {e["field"] for e in r.json()["errors"]}
    assert {"name", "stage", "is_rural"} <= fields


async def test_request_without_token_is_401_problem_json(client: httpx.AsyncClient) -> None:
    r = await client.get("/projects")
    assert r.status_code == 401 and r.json()["code"] == "unauthorized"


async def test_failed_write_leaves_no_registration(
    client: httpx.AsyncClient, token_for: Callable[..., str]
) -> None:
    project = await open_project(client, token_for, stage="junior_high")
    teacher = await add_teacher(client, token_for, LIXIA_SCHOOL)  # a primary teacher
    r = await client.post(
        f"/projects/{project['id']}/registrations",
        json={"teacher_id": teacher["id"], "subject": "语文"},
        headers=auth(token_for("school_admin", LIXIA_SCHOOL)),
    )
    assert r.status_code == 422 and r.json()["code"] == "stage_mismatch"
    rt = client.app.state.runtime  # type: ignore[attr-defined]
    async with rt.session_factory() as session:
        assert await session.scalar(select(func.count()).select_from(Registration)) == 0


async def test_retried_registration_with_the_same_idempotency_key_registers_once(
    client: httpx.AsyncClient, token_for: Callable[..., str]
) -> None:
    project = await open_project(client, token_for)
    teacher = await add_teacher(client, token_for, LIXIA_SCHOOL)
    url = f"/projects/{project['id']}/registrations"
    headers = {
        **auth(token_for("school_admin", LIXIA_SCHOOL, user_id="sa-1")),
        "Idempotency-Key": "reg-42",
    }
    body = {"teacher_id": teacher["id"], "subject": "语文"}
    first = await client.post(url, json=body, headers=headers)
    again = await client.post(url, json=body, headers=headers)
    assert first.status_code == again.status_code == 201
    assert again.json() == first.json() and again.headers["idempotent-replayed"] == "true"
    rt = client.app.state.runtime  # type: ignore[attr-defined]
    async with rt.session_factory() as session:
        assert await session.scalar(select(func.count()).select_from(Registration)) == 1
    other = await client.post(url, json={**body, "subject": "数学"}, headers=headers)
    assert other.status_code == 422 and other.json()["code"] == "idempotency_key_reused"
