"""Lessons test fixtures: the app on this test's database and broker, tokens for teachers and
admins at each level, and helpers to create lessons through the API or seed them at a level.

Org paths follow enrollment's ids (official division codes; schools `<county>-S<n>`)."""

from __future__ import annotations

import json
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import date
from typing import Any

import httpx
import pytest
import pytest_asyncio
from sqlalchemy import select

from lessons.config import Settings
from lessons.main import create_app
from lessons.models import Lesson
from lessons.showcase.models import LessonPromotion
from lessons.showcase.rules import LEVELS, track_for
from yanxiu.testing import app_client

YEAR = 2024  # no own quota table: the 2020 table stands; its deadline comes from the settings
OPEN_DEADLINE = date(2099, 12, 31)
PROVINCE = ["370000"]
JINAN = ["370000", "370100"]
LIXIA = ["370000", "370100", "370102"]
LIXIA_SCHOOL = ["370000", "370100", "370102", "370102-S001"]
LIXIA_SCHOOL_2 = ["370000", "370100", "370102", "370102-S002"]
SHIZHONG_SCHOOL = ["370000", "370100", "370103", "370103-S001"]
WEIHAI = ["370000", "371000"]
RONGCHENG_SCHOOL = ["370000", "371000", "371082", "371082-S001"]
ADMIN_ROLE = {1: "province_admin", 2: "city_admin", 3: "county_admin", 4: "school_admin"}
PROMOTER_PATH = {"school": 4, "county": 3, "city": 2, "province": 1}


def auth(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


class Tokens:
    """Bearer headers: `tokens.teacher(school_path)`, `tokens.admin(org_path)`."""

    def __init__(self, token_for: Callable[..., str]) -> None:
        self.token_for = token_for

    def teacher(
        self, school: list[str], teacher_id: uuid.UUID | str | None = None
    ) -> dict[str, str]:
        tid = str(teacher_id or uuid.uuid4())
        return auth(self.token_for("teacher", school, teacher_id=tid, user_id=f"t-{tid}"))

    def admin(self, org_path: list[str]) -> dict[str, str]:
        return auth(self.token_for(ADMIN_ROLE[len(org_path)], org_path))

    def promoter(self, level: str, lesson_school: list[str]) -> dict[str, str]:
        """The admin of `level` above a lesson's school."""
        return self.admin(lesson_school[: PROMOTER_PATH[level]])


@pytest.fixture
def tokens(token_for: Callable[..., str]) -> Tokens:
    return Tokens(token_for)


@pytest.fixture
def lessons_settings(settings_for: Callable[..., Any]) -> Callable[..., Settings]:
    """Settings for this test; `city_level_deadlines` defaults to an open deadline for YEAR."""

    def build(**overrides: Any) -> Settings:
        overrides.setdefault("city_level_deadlines", {YEAR: OPEN_DEADLINE})
        settings: Settings = settings_for(Settings, **overrides)
        return settings

    return build


@pytest_asyncio.fixture
async def client(lessons_settings: Callable[..., Settings]) -> AsyncIterator[httpx.AsyncClient]:
    app = create_app(lessons_settings())
    async with app_client(app) as c:
        c.app = app  # type: ignore[attr-defined]
        yield c


def lesson_body(**extra: Any) -> dict[str, Any]:
    return {
        "year": YEAR,
        "stage": "primary",
        "grade": "三年级",
        "subject": "语文",
        "textbook_version": "统编版",
        "title": "第一单元 大青树下的小学",
        "curriculum": "national",
        "video_url": "https://video.example/lessons/1.mp4",
        "national_platform_no": "2024-37-000001",
        **extra,
    }


async def create_lesson(
    client: httpx.AsyncClient,
    tokens: Tokens,
    school: list[str] = LIXIA_SCHOOL,
    *,
    teacher_id: uuid.UUID | str | None = None,
    **extra: Any,
) -> dict[str, Any]:
    r = await client.post(
        "/lessons", json=lesson_body(**extra), headers=tokens.teacher(school, teacher_id)
    )
    assert r.status_code == 201, r.text
    body: dict[str, Any] = r.json()
    return body


async def promote(
    client: httpx.AsyncClient, tokens: Tokens, lesson: dict[str, Any], level: str
) -> httpx.Response:
    school = [lesson["province_id"], lesson["city_id"], lesson["county_id"], lesson["school_id"]]
    return await client.post(
        f"/lessons/{lesson['id']}/promotions",
        json={"level": level},
        headers=tokens.promoter(level, school),
    )


async def promote_to(
    client: httpx.AsyncClient, tokens: Tokens, lesson: dict[str, Any], level: str
) -> dict[str, Any]:
    """Select the lesson level by level up to `level`."""
    body = lesson
    for step in LEVELS[LEVELS.index(lesson["level"]) + 1 : LEVELS.index(level) + 1]:
        r = await promote(client, tokens, lesson, step)
        assert r.status_code == 200, r.text
        body = r.json()
    return body


SeedLesson = Callable[..., Awaitable[Lesson]]


@pytest.fixture
def seed_lesson(client: httpx.AsyncClient) -> SeedLesson:
    """Insert a lesson straight into the database at `level` (with its selection rows), for
    tests that need many lessons fast: `await seed_lesson(level="city", subject="数学")`."""

    async def seed(
        *,
        level: str = "city",
        school: list[str] = LIXIA_SCHOOL,
        teacher_id: uuid.UUID | None = None,
        **fields: Any,
    ) -> Lesson:
        rt = client.app.state.runtime  # type: ignore[attr-defined]
        values: dict[str, Any] = {
            "year": YEAR,
            "stage": "primary",
            "grade": "三年级",
            "subject": "语文",
            "textbook_version": "统编版",
            "title": f"课例 {uuid.uuid4().hex[:8]}",
            "curriculum": "national",
            "video_url": "https://video.example/seed.mp4",
            "teacher_name": "种子教师",
            **fields,
        }
        values.setdefault("track", track_for(values["curriculum"]))
        province_id, city_id, county_id, school_id = school
        lesson = Lesson(
            id=uuid.uuid4(),
            teacher_id=teacher_id or uuid.uuid4(),
            province_id=province_id,
            city_id=city_id,
            county_id=county_id,
            school_id=school_id,
            level=level,
            provincial=values.pop("provincial", False),
            **values,
        )
        async with rt.session_factory() as session, session.begin():
            session.add(lesson)
            await session.flush()
            for step in LEVELS[1 : LEVELS.index(level) + 1]:
                org = school[: PROMOTER_PATH[step]][-1]
                session.add(
                    LessonPromotion(lesson_id=lesson.id, level=step, org_id=org, promoted_by="seed")
                )
        return lesson

    return seed


async def outbox_events(client: httpx.AsyncClient, event_type: str) -> list[dict[str, Any]]:
    """The outbox rows of one type, as envelopes."""
    rt = client.app.state.runtime  # type: ignore[attr-defined]
    outbox = rt.spec.table("outbox")
    async with rt.session_factory() as session:
        rows = await session.execute(
            select(outbox.c.payload).where(outbox.c.event_type == event_type).order_by(outbox.c.id)
        )
        return [json.loads(p) for p in rows.scalars()]
