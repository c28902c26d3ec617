"""附件3 市级优课信息汇总表: the Annex 3 columns in order, rows by award level, names from
enrollment over real HTTP, and the full ID number only for the admins enrollment allows."""

from __future__ import annotations

import io
import uuid
from collections.abc import AsyncIterator, Callable
from typing import Any

import httpx
import pytest_asyncio
from openpyxl import load_workbook  # type: ignore[import-untyped]

from enrollment.config import Settings as EnrollmentSettings
from enrollment.main import create_app as enrollment_app
from lessons.config import Settings
from lessons.main import create_app
from lessons.models import Lesson
from lessons.showcase.exports import COLUMNS, HEADER_ROW
from services.enrollment.tests.conftest import seed_orgs
from services.enrollment.tests.test_teachers import new_id_number
from services.lessons.tests.conftest import (
    JINAN,
    LIXIA,
    LIXIA_SCHOOL,
    PROVINCE,
    WEIHAI,
    YEAR,
    SeedLesson,
    Tokens,
    auth,
)
from yanxiu.testing import app_client, free_port, served

ANNEX3 = (
    "课例奖级",
    "市",
    "县(市、区)",
    "学段",
    "学校",
    "学科",
    "姓名",
    "身份证号",
    "教材版本",
    "课例名称",
    "国家平台课例号",
)


@pytest_asyncio.fixture
async def enrollment(settings_for: Callable[..., Any]) -> AsyncIterator[str]:
    """The real enrollment service on a port, with the test org tree."""
    app = enrollment_app(settings_for(EnrollmentSettings))
    async with served(app) as url:
        async with app.state.runtime.session_factory() as session, session.begin():
            await seed_orgs(session)
        yield url


@pytest_asyncio.fixture
async def client(
    lessons_settings: Callable[..., Settings], enrollment: str
) -> AsyncIterator[httpx.AsyncClient]:
    """Lessons pointed at the served enrollment (overrides conftest's client)."""
    app = create_app(lessons_settings(enrollment_url=enrollment))
    async with app_client(app) as c:
        c.app = app  # type: ignore[attr-defined]
        yield c


async def enrol_teacher(enrollment: str, tokens: Tokens, name: str) -> tuple[str, str]:
    id_number = new_id_number()
    body = {
        "name": name,
        "school_id": LIXIA_SCHOOL[-1],
        "stage": "primary",
        "subject": "语文",
        "is_rural": True,
        "id_number": id_number,
    }
    async with httpx.AsyncClient(base_url=enrollment) as http:
        r = await http.post("/teachers", json=body, headers=tokens.admin(LIXIA_SCHOOL))
    assert r.status_code == 201, r.text
    return r.json()["id"], id_number


async def sheet(client: httpx.AsyncClient, headers: dict[str, str]) -> list[list[Any]]:
    r = await client.get(
        "/exports/city-summary", params={"year": YEAR, "city_id": "370100"}, headers=headers
    )
    assert r.status_code == 200, r.text
    assert r.headers["content-type"].startswith("application/vnd.openxmlformats")
    ws = load_workbook(io.BytesIO(r.content)).active
    return [list(row) for row in ws.iter_rows(values_only=True)]


async def test_city_summary_has_the_annex3_columns_and_full_id_for_the_county(
    client: httpx.AsyncClient, enrollment: str, tokens: Tokens, seed_lesson: SeedLesson
) -> None:
    assert COLUMNS == ANNEX3
    teacher_a, id_a = await enrol_teacher(enrollment, tokens, "张三")
    teacher_b, _ = await enrol_teacher(enrollment, tokens, "李四")
    third = await seed_lesson(
        teacher_id=uuid.UUID(teacher_b), award="third", title="三等课", national_platform_no="N-2"
    )
    first = await seed_lesson(
        teacher_id=uuid.UUID(teacher_a), award="first", title="一等课", national_platform_no="N-1"
    )
    await seed_lesson(level="county", title="县级课")  # not city-level: not on the sheet

    rows = await sheet(client, tokens.admin(LIXIA))
    assert "市级“优课”信息汇总表" in rows[0][0]
    assert tuple(rows[HEADER_ROW - 1]) == ANNEX3
    body = rows[HEADER_ROW:]
    assert [r[9] for r in body] == [first.title, third.title]  # 一等奖 before 三等奖
    assert body[0] == [
        "一等奖",
        "济南市",
        "历下区",
        "小学",
        "历下区实验小学",
        "语文",
        "张三",
        id_a,
        "统编版",
        "一等课",
        "N-1",
    ]


async def test_city_and_province_get_masked_id_numbers(
    client: httpx.AsyncClient, enrollment: str, tokens: Tokens, seed_lesson: SeedLesson
) -> None:
    teacher, id_number = await enrol_teacher(enrollment, tokens, "王五")
    await seed_lesson(teacher_id=uuid.UUID(teacher), award="second")
    for admin in (JINAN, PROVINCE):
        [row] = (await sheet(client, tokens.admin(admin)))[HEADER_ROW:]
        assert row[0] == "二等奖" and row[6] == "王五"
        assert row[7] != id_number and row[7].startswith(id_number[:6]) and "*" in row[7]


async def test_only_admins_of_the_city_or_above_export_it(
    client: httpx.AsyncClient, tokens: Tokens, token_for: Callable[..., str]
) -> None:
    params: dict[str, str | int] = {"year": YEAR, "city_id": "370100"}
    for headers in (
        tokens.admin(WEIHAI),
        tokens.admin(LIXIA_SCHOOL),
        auth(token_for("teacher", LIXIA_SCHOOL, teacher_id=str(uuid.uuid4()))),
    ):
        r = await client.get("/exports/city-summary", params=params, headers=headers)
        assert r.status_code == 403, r.text


async def test_export_says_so_when_enrollment_is_down(
    lessons_settings: Callable[..., Settings], tokens: Tokens
) -> None:
    app = create_app(lessons_settings(enrollment_url=f"http://127.0.0.1:{free_port()}"))
    async with app_client(app) as client:
        async with app.state.runtime.session_factory() as session, session.begin():
            session.add(
                Lesson(
                    id=uuid.uuid4(),
                    year=YEAR,
                    teacher_id=uuid.uuid4(),
                    teacher_name="赵六",
                    stage="primary",
                    grade="三年级",
                    subject="语文",
                    textbook_version="统编版",
                    title="停机",
                    curriculum="national",
                    track="competition",
                    video_url="https://v/1",
                    province_id="370000",
                    city_id="370100",
                    county_id=LIXIA[-1],
                    school_id=LIXIA_SCHOOL[-1],
                    level="city",
                    provincial=False,
                )
            )
        r = await client.get(
            "/exports/city-summary",
            params={"year": YEAR, "city_id": "370100"},
            headers=tokens.admin(JINAN),
        )
        assert r.status_code == 503 and r.json()["code"] == "enrollment_unavailable"
