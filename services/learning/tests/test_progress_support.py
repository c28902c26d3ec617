"""Fixtures of the progress tests: the learning app on this test's database with a test clock,
one project, one 600-second course with a two-question assessment, a registered teacher."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Callable
from datetime import UTC, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import httpx
import pytest_asyncio
from sqlalchemy import text

from learning.catalog.models import Course
from learning.config import Settings
from learning.main import create_app
from learning.models import Plan
from learning.progress.api import CLOCK
from learning.progress.writer import heartbeat_batcher
from learning.rules import repository as rules_repo
from learning.rules.catalogue import shipped
from learning.rules.service import today_in_shanghai
from yanxiu.testing import app_client

SHANGHAI = ZoneInfo("Asia/Shanghai")
LIXIA = ["370000", "370100", "370102", "370102-S001"]
RONGCHENG = ["370000", "371000", "371082", "371082-S001"]
QUESTIONS = [
    {"id": "q1", "text": "师德第一条？", "options": ["A", "B"], "answer": "A"},
    {"id": "q2", "text": "师德第二条？", "options": ["A", "B", "C"], "answer": "B"},
]


class Clock:
    """The server's receipt clock, moved by the test (real time would make tests minutes long).
    It starts at 09:00 today in Shanghai, the day assessments (on the real clock) see too."""

    def __init__(self) -> None:
        start = datetime.combine(today_in_shanghai(), time(9), tzinfo=SHANGHAI)
        self.now = start.astimezone(UTC)

    def __call__(self) -> datetime:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += timedelta(seconds=seconds)


class Learning:
    """The learning app on this test's database, one project, one 600-second course with a
    two-question assessment (pass mark 60), and a teacher registered in the project."""

    def __init__(self, app: Any, client: httpx.AsyncClient, token_for: Callable[..., str]) -> None:
        self.app = app
        self.client = client
        self.token_for = token_for
        self.clock = Clock()
        self.project_id = uuid.uuid4()
        self.course_id = uuid.uuid4()
        self.teacher_id = uuid.uuid4()
        self.teacher_token = token_for("teacher", LIXIA, teacher_id=str(self.teacher_id))
        self.school_admin_token = token_for("school_admin", LIXIA)
        self.other_admin_token = token_for("county_admin", RONGCHENG[:3])

    @property
    def rt(self) -> Any:
        return self.app.state.runtime

    def auth(self, token: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {token}"}

    def engine_conn(self) -> Any:
        return self.rt.engine.connect()

    async def seed(self) -> None:
        async with self.rt.session_factory() as session, session.begin():
            session.add(
                Course(
                    id=self.course_id,
                    code=f"C-{self.course_id.hex[:8]}",
                    title="师德师风建设",
                    kind="required",
                    scope="general",
                    hours=2,
                    stages=["primary"],
                    subjects=[],
                    video_seconds=600,
                    pass_mark=60,
                    assessment=QUESTIONS,
                )
            )
            await session.flush()
            await assign_rules(session, self.project_id)
        await self.register(self.teacher_id, LIXIA)

    async def set_rules(self, **kwargs: Any) -> None:
        async with self.rt.session_factory() as session, session.begin():
            await assign_rules(session, self.project_id, **kwargs)

    async def add_course(self, *, kind: str, scope: str) -> uuid.UUID:
        course_id = uuid.uuid4()
        async with self.rt.session_factory() as session, session.begin():
            session.add(
                Course(
                    id=course_id,
                    code=f"C-{course_id.hex[:8]}",
                    title="学科必修课",
                    kind=kind,
                    scope=scope,
                    hours=1,
                    stages=["primary"],
                    subjects=["语文"],
                    video_seconds=600,
                    pass_mark=60,
                    assessment=QUESTIONS,
                )
            )
        return course_id

    async def register(self, teacher_id: uuid.UUID, org: list[str]) -> None:
        async with self.rt.session_factory() as session, session.begin():
            session.add(
                Plan(
                    teacher_id=teacher_id,
                    project_id=self.project_id,
                    registration_id=uuid.uuid4(),
                    project_year=2026,
                    teacher_name="张老师",
                    stage="primary",
                    subject="语文",
                    province_id=org[0],
                    city_id=org[1],
                    county_id=org[2],
                    school_id=org[3],
                    status="active",
                )
            )

    async def add_teacher(self) -> tuple[uuid.UUID, str]:
        tid = uuid.uuid4()
        await self.register(tid, LIXIA)
        return tid, self.token_for("teacher", LIXIA, teacher_id=str(tid))

    async def withdraw(self, teacher_id: uuid.UUID) -> None:
        async with self.engine_conn() as conn:
            await conn.execute(
                text("UPDATE learning.plans SET status = 'withdrawn' WHERE teacher_id = :t"),
                {"t": teacher_id},
            )
            await conn.commit()

    async def assess(self, token: str, answers: dict[str, str]) -> httpx.Response:
        body = {
            "course_id": str(self.course_id),
            "project_id": str(self.project_id),
            "answers": answers,
        }
        return await self.client.post("/assessments", json=body, headers=self.auth(token))

    async def completions(self, teacher_id: uuid.UUID) -> int:
        async with self.engine_conn() as conn:
            n = (
                await conn.execute(
                    text(
                        "SELECT count(*) FROM learning.outbox WHERE event_type = "
                        "'learning.course_completed' AND key = :k"
                    ),
                    {"k": str(teacher_id)},
                )
            ).scalar_one()
        return int(n)

    def batcher_batches(self) -> int:
        return heartbeat_batcher(self.rt).batches


ALWAYS_OPEN = {
    "selection": {"opens": "01-01", "closes": "12-31"},
    "learning": {"opens": "01-01", "closes": "12-31"},
    "subject_required": {"opens": "01-01", "closes": "12-31"},
}


async def assign_rules(
    session: Any,
    project_id: uuid.UUID,
    *,
    windows: dict[str, dict[str, str]] | None = None,
    **overrides: Any,
) -> None:
    """The project runs under the shipped Shandong 2023 rules (helper A's rules package), with
    its windows open all year unless given, and any field overridden (e.g. watch_ratio)."""
    doc = shipped()["shandong-2023"].model_dump(mode="json")
    doc["windows"] = windows or ALWAYS_OPEN
    doc.update(overrides)
    await rules_repo.put(
        session,
        project_id=project_id,
        year=today_in_shanghai().year,
        code="shandong-2023",
        ruleset=doc,
        assigned_by="test",
    )


@pytest_asyncio.fixture
async def px(
    settings_for: Callable[..., Any], token_for: Callable[..., str]
) -> AsyncIterator[Learning]:
    app = create_app(settings_for(Settings))
    async with app_client(app) as client:
        env = Learning(app, client, token_for)
        app.state.runtime.extras[CLOCK] = env.clock
        await env.seed()
        yield env


def beat(
    px: Learning,
    *,
    segments: list[list[float]] | None = None,
    position: float | None = None,
    session: str = "web-session-1",
    course_id: uuid.UUID | None = None,
) -> dict[str, Any]:
    segs = segments or []
    return {
        "course_id": str(course_id or px.course_id),
        "project_id": str(px.project_id),
        "device_session_id": session,
        "position": position if position is not None else (segs[-1][1] if segs else 0),
        "segments": segs,
        "client_at": px.clock.now.isoformat(),
    }


async def post(px: Learning, token: str, body: dict[str, Any]) -> httpx.Response:
    return await px.client.post(
        "/progress", json=body, headers={"Authorization": f"Bearer {token}"}
    )


async def watch(px: Learning, token: str, until: float, step: float = 10.0) -> None:
    """Plays from 0 to `until` at real speed, one heartbeat every `step` seconds."""
    assert (await post(px, token, beat(px))).status_code == 200
    at = 0.0
    while at < until:
        end = min(until, at + step)
        px.clock.advance(end - at)
        r = await post(px, token, beat(px, segments=[[at, end]]))
        assert r.status_code == 200, r.text
        at = end


async def progress_of(px: Learning, token: str, teacher_id: uuid.UUID) -> dict[str, Any]:
    r = await px.client.get(f"/progress/{teacher_id}", headers=px.auth(token))
    assert r.status_code == 200, r.text
    items = [i for i in r.json()["items"] if i["course_id"] == str(px.course_id)]
    return items[0] if items else {}
