"""Learning test fixtures: the app on this test's database and broker, and helpers to seed a
plan (as enrollment's TeacherRegistered would), a project's rules and courses, and tokens.

    async def test_x(lx: LearningWorld) -> None:
        t = await lx.seed_plan()                      # a teacher in a fresh project
        await lx.seed_rules(t.project_id, "shandong-2023")
        course = await lx.seed_course(kind="elective", scope="general", topic_id="ethics")
        r = await lx.client.get("/courses", headers=lx.auth(t.token))
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Callable, Sequence
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import Any

import httpx
import pytest_asyncio
from fastapi import FastAPI
from sqlalchemy.ext.asyncio import AsyncSession

from learning.catalog.models import Course
from learning.config import Settings
from learning.main import create_app
from learning.models import Plan
from learning.rules import repository as rules_repo
from learning.rules.catalogue import shipped
from learning.schools.service import place_schools
from yanxiu.contracts.envelope import OrgPath
from yanxiu.kit.app import Runtime

PROVINCE = "370000"
SCHOOL = ["370000", "370100", "370102", "370102-S001"]  # 济南 历下区 实验小学
OTHER_SCHOOL = ["370000", "371000", "371082", "371082-S001"]  # 威海 荣成 第一实验小学
ALWAYS_OPEN = {
    "selection": {"opens": "01-01", "closes": "12-31"},
    "learning": {"opens": "01-01", "closes": "12-31"},
    "subject_required": {"opens": "01-01", "closes": "12-31"},
}


@dataclass
class SeededTeacher:
    teacher_id: uuid.UUID
    project_id: uuid.UUID
    stage: str
    subject: str
    org_path: list[str]
    token: str
    year: int

    @property
    def school_id(self) -> str:
        return self.org_path[3]


@dataclass
class LearningWorld:
    client: httpx.AsyncClient
    app: FastAPI
    token_for: Callable[..., str]
    project_id: uuid.UUID = field(default_factory=uuid.uuid4)

    @property
    def rt(self) -> Runtime:
        rt: Runtime = self.app.state.runtime
        return rt

    @staticmethod
    def auth(token: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {token}"}

    def token(self, role: str, org_path: Sequence[str] = SCHOOL, **kw: Any) -> str:
        return str(self.token_for(role, list(org_path), **kw))

    def province_token(self) -> str:
        return self.token("province_admin", [PROVINCE])

    def school_admin_token(self, org_path: Sequence[str] = SCHOOL) -> str:
        return self.token("school_admin", org_path)

    def teacher_token(self, teacher_id: uuid.UUID, org_path: Sequence[str] = SCHOOL) -> str:
        return self.token("teacher", org_path, teacher_id=str(teacher_id))

    async def run(self, fn: Callable[[AsyncSession], Any]) -> Any:
        """Run `await fn(session)` in one committed transaction."""
        async with self.rt.session_factory() as session, session.begin():
            return await fn(session)

    async def seed_plan(
        self,
        *,
        teacher_id: uuid.UUID | None = None,
        project_id: uuid.UUID | None = None,
        stage: str = "primary",
        subject: str = "数学",
        org_path: Sequence[str] = SCHOOL,
        year: int | None = None,
        name: str = "张老师",
    ) -> SeededTeacher:
        """A learning plan, as enrollment's TeacherRegistered event would have made it."""
        tid = teacher_id or uuid.uuid4()
        pid = project_id or self.project_id
        yr = year or date.today().year
        path = list(org_path)

        async def add(session: AsyncSession) -> None:
            session.add(
                Plan(
                    teacher_id=tid,
                    project_id=pid,
                    registration_id=uuid.uuid4(),
                    project_year=yr,
                    teacher_name=name,
                    stage=stage,
                    subject=subject,
                    province_id=path[0],
                    city_id=path[1],
                    county_id=path[2],
                    school_id=path[3],
                )
            )

        await self.run(add)
        await self.seed_school(path)
        return SeededTeacher(tid, pid, stage, subject, path, self.teacher_token(tid, path), yr)

    async def seed_school(self, org_path: Sequence[str] = SCHOOL) -> None:
        """The school's place, as enrollment's teacher events would have told learning."""
        p = list(org_path)
        org = OrgPath(province_id=p[0], city_id=p[1], county_id=p[2], school_id=p[3])

        async def place(session: AsyncSession) -> None:
            await place_schools(session, [org])

        await self.run(place)

    async def seed_rules(
        self,
        project_id: uuid.UUID | None = None,
        code: str = "shandong-2023",
        *,
        year: int | None = None,
        windows: dict[str, dict[str, str]] | None = ALWAYS_OPEN,
        **overrides: Any,
    ) -> None:
        """Assign a shipped rule set to a project (windows open all year unless given)."""
        doc = shipped()[code].model_dump(mode="json")
        if windows is not None:
            doc["windows"] = windows
        doc.update(overrides)

        async def put(session: AsyncSession) -> None:
            await rules_repo.put(
                session,
                project_id=project_id or self.project_id,
                year=year or date.today().year,
                code=code,
                ruleset=doc,
                assigned_by="test",
            )

        await self.run(put)

    async def seed_course(
        self,
        *,
        code: str | None = None,
        title: str = "测试课程",
        kind: str = "elective",
        scope: str = "general",
        topic_id: str | None = None,
        hours: Decimal | int | str = 1,
        stages: list[str] | None = None,
        subjects: list[str] | None = None,
        video_seconds: int = 600,
        pass_mark: int | None = None,
        assessment: list[dict[str, Any]] | None = None,
        delivery: str = "online",
    ) -> Course:
        course = Course(
            id=uuid.uuid4(),
            code=code or f"T-{uuid.uuid4().hex[:10]}",
            title=title,
            kind=kind,
            scope=scope,
            delivery=delivery,
            topic_id=topic_id if topic_id or scope != "general" else "ethics",
            hours=Decimal(hours),
            stages=stages or [],
            subjects=subjects or [],
            video_seconds=video_seconds,
            pass_mark=pass_mark,
            assessment=assessment or [],
        )

        async def add(session: AsyncSession) -> None:
            session.add(course)

        await self.run(add)
        return course


@pytest_asyncio.fixture
async def client(settings_for: Callable[..., Any]) -> AsyncIterator[httpx.AsyncClient]:
    """The learning app (consumers and relay running) on this test's database and broker;
    `client.app` is the app."""
    from yanxiu.testing import app_client

    app = create_app(settings_for(Settings))
    async with app_client(app) as c:
        c.app = app  # type: ignore[attr-defined]
        yield c


@pytest_asyncio.fixture
async def lx(client: httpx.AsyncClient, token_for: Callable[..., str]) -> LearningWorld:
    return LearningWorld(client=client, app=client.app, token_for=token_for)  # type: ignore[attr-defined]
