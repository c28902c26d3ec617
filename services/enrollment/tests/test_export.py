"""教师信息与报名名单导出: XLSX of the caller's unit, personal data masked."""

from __future__ import annotations

import io
import uuid
from collections.abc import Callable
from datetime import date, timedelta
from typing import Any

import httpx
from openpyxl import load_workbook  # type: ignore[import-untyped]
from sqlalchemy import select

from enrollment.models import Registration, Teacher
from services.enrollment.tests.conftest import LIXIA_SCHOOL, RONGCHENG_SCHOOL
from services.enrollment.tests.test_import import auth, csv_bytes, id_number, row, upload

TODAY = date.today()


def sheet_rows(content: bytes) -> list[list[Any]]:
    book = load_workbook(io.BytesIO(content), read_only=True)
    return [list(r) for r in book.worksheets[0].iter_rows(values_only=True)]


async def seed(client: httpx.AsyncClient, token_for: Callable[..., str]) -> tuple[str, str]:
    lixia, rongcheng = id_number(), id_number(region="371082")
    r = await upload(
        client,
        token_for("school_admin", LIXIA_SCHOOL),
        csv_bytes([row(姓名="历下老师", 身份证号=lixia)]),
    )
    assert r.status_code == 201, r.text
    r = await upload(
        client,
        token_for("school_admin", RONGCHENG_SCHOOL),
        csv_bytes([row(姓名="荣成老师", 身份证号=rongcheng, 学校=RONGCHENG_SCHOOL[-1])]),
    )
    assert r.status_code == 201, r.text
    return lixia, rongcheng


async def test_export_masks_id_numbers(
    client: httpx.AsyncClient, token_for: Callable[..., str]
) -> None:
    lixia, _ = await seed(client, token_for)
    r = await client.get(
        "/teachers/export.xlsx", headers=auth(token_for("county_admin", LIXIA_SCHOOL[:3]))
    )
    assert r.status_code == 200, r.text
    assert r.headers["content-type"].startswith("application/vnd.openxmlformats")
    header, *rows = sheet_rows(r.content)
    assert header[:9] == [
        "姓名",
        "身份证号",
        "性别",
        "出生日期",
        "学校",
        "学校编号",
        "学段",
        "学科",
        "是否乡村教师",
    ]
    [teacher] = rows
    assert teacher[0] == "历下老师"
    assert teacher[1] == lixia[:6] + "********" + lixia[-4:]
    assert lixia not in r.content.decode("latin-1")
    assert teacher[4:9] == ["历下区实验小学", "370102-S001", "小学", "语文", "否"]
    assert teacher[9] == "138****8000"


async def test_export_holds_only_the_callers_unit(
    client: httpx.AsyncClient, token_for: Callable[..., str]
) -> None:
    await seed(client, token_for)
    province = auth(token_for("province_admin", ["370000"]))
    r = await client.get("/teachers/export.xlsx", headers=province)
    assert sorted(t[0] for t in sheet_rows(r.content)[1:]) == ["历下老师", "荣成老师"]
    r = await client.get("/teachers/export.xlsx", params={"org_id": "371082"}, headers=province)
    assert [t[0] for t in sheet_rows(r.content)[1:]] == ["荣成老师"]
    county = auth(token_for("county_admin", LIXIA_SCHOOL[:3]))
    r = await client.get("/teachers/export.xlsx", params={"org_id": "371082"}, headers=county)
    assert r.status_code == 404
    r = await client.get("/teachers/export.xlsx", headers=auth(token_for("teacher", LIXIA_SCHOOL)))
    assert r.status_code == 403


async def test_registration_export_lists_the_units_registrations(
    client: httpx.AsyncClient, token_for: Callable[..., str]
) -> None:
    await seed(client, token_for)
    r = await client.post(
        "/projects",
        headers=auth(token_for("province_admin", ["370000"])),
        json={
            "year": TODAY.year,
            "stage": "primary",
            "name": "小学项目",
            "registration_opens_on": str(TODAY - timedelta(days=1)),
            "registration_closes_on": str(TODAY + timedelta(days=30)),
        },
    )
    assert r.status_code == 201, r.text
    project = r.json()["id"]
    # Registered directly: the export reads what the registration flow wrote.
    rt = client.app.state.runtime  # type: ignore[attr-defined]
    async with rt.session_factory() as session, session.begin():
        for t in (await session.scalars(select(Teacher))).all():
            session.add(
                Registration(
                    project_id=uuid.UUID(project),
                    teacher_id=t.id,
                    subject=t.subject,
                    city_id=t.city_id,
                    county_id=t.county_id,
                    school_id=t.school_id,
                    registered_by="test",
                )
            )
    r = await client.get(
        f"/projects/{project}/registrations/export.xlsx",
        headers=auth(token_for("city_admin", LIXIA_SCHOOL[:2])),
    )
    assert r.status_code == 200, r.text
    header, *rows = sheet_rows(r.content)
    assert header == ["学校编号", "学校", "教师姓名", "学科", "报名时间"]
    assert [r[:4] for r in rows] == [["370102-S001", "历下区实验小学", "历下老师", "语文"]]
    r = await client.get(
        "/projects/00000000-0000-0000-0000-000000000000/registrations/export.xlsx",
        headers=auth(token_for("city_admin", LIXIA_SCHOOL[:2])),
    )
    assert r.status_code == 404
