"""附件3 市级“优课”信息汇总表: a city's city-level lessons as the XLSX sheet the city sends to
the province, with the Annex 3 columns in their order. Names and 身份证号 come from enrollment
with the caller's own token: the full number where enrollment lets the caller see it (the
teacher's school and county admins), masked otherwise."""

from __future__ import annotations

import asyncio
import io
from datetime import datetime

from openpyxl import Workbook  # type: ignore[import-untyped]
from openpyxl.styles import Alignment, Font  # type: ignore[import-untyped]

from lessons.errors import NoCityQuota
from lessons.models import Lesson
from lessons.showcase import repository as repo
from lessons.showcase.enrollment_client import EnrollmentClient, TeacherCard
from lessons.showcase.rules import AWARD_NAMES, SHANGHAI, LessonRules
from yanxiu.contracts.enrollment import Stage
from yanxiu.kit.auth import Principal
from yanxiu.kit.errors import Forbidden, OutOfScope
from yanxiu.kit.reads import Reader
from yanxiu.kit.spreadsheet import safe_row

TITLE = "市级“优课”信息汇总表"
COLUMNS = (
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
STAGE_NAMES: dict[Stage | str, str] = {
    "senior_high": "高中",
    "junior_high": "初中",
    "primary": "小学",
    "kindergarten": "幼儿园",
}
_AWARD_ORDER = {"first": 0, "second": 1, "third": 2, None: 3}
HEADER_ROW = 4  # title, city line, contact line, then the column header


def _row(lesson: Lesson, card: TeacherCard | None, city_name: str) -> list[str]:
    return [
        AWARD_NAMES.get(lesson.award or "", "未评奖"),
        (card.city_name if card else "") or city_name,
        card.county_name if card and card.county_name else lesson.county_id,
        STAGE_NAMES.get(lesson.stage, lesson.stage),
        card.school_name if card and card.school_name else lesson.school_id,
        lesson.subject,
        card.name if card else lesson.teacher_name,
        card.id_number if card else "******",
        lesson.textbook_version,
        lesson.title,
        lesson.national_platform_no or "",
    ]


def render(rows: list[list[str]], *, city_name: str, year: int, generated: datetime) -> bytes:
    wb = Workbook()
    ws = wb.active
    assert ws is not None
    ws.title = f"{year}市级优课"
    ws.append([f"{year}年{TITLE}"])
    ws.append([f"市教育局：{city_name}教育局"])
    ws.append(
        ["联系人：", "", "联系电话：", "", "", "", "", "", "导出时间：", generated.isoformat()]
    )
    ws.append(list(COLUMNS))
    for row in rows:
        ws.append(safe_row(row))
    ws.merge_cells(start_row=1, start_column=1, end_row=1, end_column=len(COLUMNS))
    ws.cell(1, 1).font = Font(bold=True, size=14)
    ws.cell(1, 1).alignment = Alignment(horizontal="center")
    for cell in ws[HEADER_ROW]:
        cell.font = Font(bold=True)
    ws.freeze_panes = ws.cell(HEADER_ROW + 1, 1)
    for col, width in zip("ABCDEFGHIJK", (10, 10, 14, 8, 24, 12, 10, 22, 16, 30, 18), strict=True):
        ws.column_dimensions[col].width = width
    buffer = io.BytesIO()
    wb.save(buffer)
    return buffer.getvalue()


async def city_summary(
    reader: Reader,
    *,
    actor: Principal,
    rules: LessonRules,
    enrollment: EnrollmentClient,
    year: int,
    city_id: str,
    now: datetime,
) -> bytes:
    """The sheet for one city and year: the city's and province's admins, or a county admin for
    its own county's rows."""
    if not actor.is_admin or len(actor.org_path) > 3:
        raise Forbidden()
    city_path = [actor.org_path[0], city_id]
    if not (actor.covers(city_path) or tuple(city_path) == actor.org_path[:2]):
        raise OutOfScope()
    table = rules.quota_table(year)
    city = table.cities.get(city_id) if table else None
    if city is None:
        raise NoCityQuota()
    lessons = [
        lesson
        for lesson in await repo.city_level_lessons(reader, year=year, city_id=city_id)
        if actor.covers(lesson.org_path)
    ]
    lessons.sort(key=lambda lesson: _AWARD_ORDER.get(lesson.award, 3))
    cards = await enrollment.teacher_cards(
        (lesson.teacher_id for lesson in lessons), reveal_id_number=True
    )
    rows = [_row(lesson, cards.get(lesson.teacher_id), city.name) for lesson in lessons]
    # Building the workbook is CPU work (~0.8 s for Jinan's 2,644 rows): off the event loop.
    return await asyncio.to_thread(
        render, rows, city_name=city.name, year=year, generated=now.astimezone(SHANGHAI)
    )
