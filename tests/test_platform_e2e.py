"""End to end, through the gateway over real HTTP: a teacher registered in a project leads,
through an event on the real broker, to the learning plan the learning service serves."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator, Callable
from datetime import date, timedelta
from typing import Any

import httpx
import pytest_asyncio

from enrollment.config import Settings as EnrollmentSettings
from enrollment.idcard import check_digit
from enrollment.main import create_app as enrollment_app
from gateway.config import GatewaySettings
from gateway.main import create_app as gateway_app
from gateway.service import create_account
from learning.config import Settings as LearningSettings
from learning.main import create_app as learning_app
from services.enrollment.tests.conftest import seed_orgs
from yanxiu.kit.auth import Role
from yanxiu.kit.db import make_engine, make_session_factory
from yanxiu.testing import eventually, served

PASSWORD = "研修-demo-Passw0rd"
SCHOOL = ["370000", "370100", "370102", "370102-S001"]


@pytest_asyncio.fixture
async def gateway(
    settings_for: Callable[..., Any], keypair: tuple[str, str], database_url: str
) -> AsyncIterator[str]:
    engine = make_engine(database_url, pool_size=2)
    async with make_session_factory(engine)() as session, session.begin():
        await seed_orgs(session)
        for username, role, path in [
            ("province", Role.province_admin, SCHOOL[:1]),
            ("city", Role.city_admin, SCHOOL[:2]),
            ("county", Role.county_admin, SCHOOL[:3]),
            ("school", Role.school_admin, SCHOOL),
        ]:
            await create_account(
                session,
                username=username,
                password=PASSWORD,
                role=role,
                org_path=path,
                name=username,
            )
    await engine.dispose()
    async with contextlib.AsyncExitStack() as stack:
        enrollment = await stack.enter_async_context(
            served(enrollment_app(settings_for(EnrollmentSettings)))
        )
        learning = await stack.enter_async_context(
            served(learning_app(settings_for(LearningSettings)))
        )
        gw = gateway_app(
            settings_for(
                GatewaySettings,
                jwt_private_key=keypair[0],
                enrollment_url=enrollment,
                learning_url=learning,
                rate_limit_enabled=False,
            )
        )
        yield await stack.enter_async_context(served(gw))


async def login(client: httpx.AsyncClient, username: str) -> dict[str, str]:
    r = await client.post("/api/v1/auth/token", json={"username": username, "password": PASSWORD})
    assert r.status_code == 200, r.text
    return {"Authorization": f"Bearer {r.json()['access_token']}"}


async def test_teacher_registered_through_gateway_gets_a_learning_plan(gateway: str) -> None:
    async with httpx.AsyncClient(base_url=gateway, timeout=10) as client:
        province, school = await login(client, "province"), await login(client, "school")
        city, county = await login(client, "city"), await login(client, "county")
        today = date.today()
        project = await client.post(
            "/api/v1/enrollment/projects",
            headers=province,
            json={
                "year": today.year,
                "stage": "primary",
                "name": "互联网+教师专业发展 小学",
                "registration_opens_on": str(today - timedelta(days=1)),
                "registration_closes_on": str(today + timedelta(days=30)),
            },
        )
        assert project.status_code == 201, project.text
        base = f"/api/v1/enrollment/projects/{project.json()['id']}"
        opened = await client.post(f"{base}/counties", headers=city, json={"org_ids": [SCHOOL[2]]})
        assert opened.status_code in (200, 201), opened.text
        opened = await client.post(f"{base}/schools", headers=county, json={"org_ids": [SCHOOL[3]]})
        assert opened.status_code in (200, 201), opened.text
        teacher = await client.post(
            "/api/v1/enrollment/teachers",
            headers=school,
            json={
                "name": "王芳",
                "school_id": SCHOOL[-1],
                "stage": "primary",
                "subject": "语文",
                "is_rural": False,
                "id_number": "37010219850101123" + check_digit("37010219850101123"),
            },
        )
        assert teacher.status_code == 201, teacher.text
        teacher_id = teacher.json()["id"]
        verified = await client.post(
            f"/api/v1/enrollment/teachers/{teacher_id}/verify", headers=county
        )
        assert verified.status_code == 200, verified.text
        reg = await client.post(
            f"/api/v1/enrollment/projects/{project.json()['id']}/registrations",
            headers={**school, "X-Request-ID": "e2e-trace-1"},
            json={"teacher_id": teacher_id, "subject": "语文"},
        )
        assert reg.status_code == 201, reg.text
        assert reg.headers["x-request-id"] == "e2e-trace-1"

        async def plan() -> list[dict[str, Any]] | None:
            r = await client.get(f"/api/v1/learning/plans/{teacher_id}", headers=school)
            return r.json() if r.status_code == 200 else None

        plans = await eventually(plan, timeout=20)
        assert [(p["project_id"], p["subject"], p["status"]) for p in plans] == [
            (project.json()["id"], "语文", "active")
        ]


async def test_admin_of_another_county_cannot_see_the_plan(
    gateway: str, token_for: Callable[..., str]
) -> None:
    async with httpx.AsyncClient(base_url=gateway, timeout=10) as client:
        other = {
            "Authorization": "Bearer " + token_for("county_admin", ["370000", "371000", "371082"])
        }
        r = await client.get(
            "/api/v1/learning/plans/00000000-0000-0000-0000-000000000001", headers=other
        )
        assert r.status_code == 404
        assert r.headers["content-type"].startswith("application/problem+json")
