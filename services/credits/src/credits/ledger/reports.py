"""Reports (统计): a teacher's transcript and totals with completion rates by school, county
and city, read from the teacher-year table (never by scanning the ledger)."""

from __future__ import annotations

import io
import uuid
from decimal import Decimal
from typing import Any, Literal

from openpyxl import Workbook  # type: ignore[import-untyped]
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from credits.ledger import repository as repo
from credits.ledger.errors import TeacherUnknown
from credits.ledger.models import Teacher, TeacherYear
from credits.ledger.regions import regions
from credits.ledger.schemas import (
    CategoryBalance,
    OrgTotal,
    TotalsRead,
    TranscriptRead,
    TranscriptYear,
)
from credits.ledger.service import YearStatus, year_status
from yanxiu.kit.auth import Principal
from yanxiu.kit.errors import Forbidden

Level = Literal["city", "county", "school"]
_CHILD_COLUMN = {"city": "city_id", "county": "county_id", "school": "school_id"}
_PARENT_COLUMN = {"city": "province_id", "county": "city_id", "school": "county_id"}


def categories_of(status: YearStatus) -> list[CategoryBalance]:
    region = regions()[status.region]
    names = {c.code: c.name for c in region.categories}
    rows = []
    for code, recorded in status.recorded_by_category.items():
        counted = status.counted_by_category.get(code, Decimal(0))
        above = max(recorded - counted, Decimal(0))
        rows.append(
            CategoryBalance(
                category=code,
                name=names.get(code, code),
                recorded_hours=recorded,
                counted_hours=counted,
                annual_cap=region.cap(code),
                above_cap_hours=above,
                note=(
                    f"超出年度上限 {above} 学时，已登记但不计入 "
                    f"({above} h above the annual cap are kept but not counted)"
                    if above
                    else None
                ),
            )
        )
    return rows


async def transcript(
    session: AsyncSession, *, teacher_id: uuid.UUID, name: str | None
) -> TranscriptRead:
    years = []
    for ty in await repo.teacher_years(session, teacher_id=teacher_id):
        status = await year_status(session, teacher_id=teacher_id, year=ty.year)
        years.append(
            TranscriptYear(
                year=ty.year,
                region=ty.region,
                recorded_hours=ty.recorded_hours,
                counted_hours=ty.counted_hours,
                complete=ty.complete,
                categories=categories_of(status),
            )
        )
    return TranscriptRead(teacher_id=teacher_id, name=name, years=years)


async def org_totals(
    session: AsyncSession, *, actor: Principal, level: Level, parent: str, year: int
) -> TotalsRead:
    """Totals of each city (under a province), county (under a city) or school (under a
    county): teachers known, teachers with credit, complete, rate, counted hours. Only rows
    inside the caller's own subtree count, whatever `parent` names."""
    if not actor.is_admin:
        raise Forbidden("只有管理员可以查看统计", "Reports are for administrators")
    child = getattr(TeacherYear, _CHILD_COLUMN[level])
    credited = (
        select(
            child.label("org_id"),
            func.count().label("with_credit"),
            func.count().filter(TeacherYear.complete).label("complete"),
            func.coalesce(func.sum(TeacherYear.counted_hours), 0).label("hours"),
        )
        .where(
            TeacherYear.year == year,
            getattr(TeacherYear, _PARENT_COLUMN[level]) == parent,
            *_in_scope(TeacherYear, actor),
        )
        .group_by(child)
    )
    known_child = getattr(Teacher, _CHILD_COLUMN[level])
    known = (
        select(known_child, func.count())
        .where(getattr(Teacher, _PARENT_COLUMN[level]) == parent, *_in_scope(Teacher, actor))
        .group_by(known_child)
    )
    counts: dict[str, int] = dict((await session.execute(known)).tuples().all())
    rows = []
    for org_id, with_credit, complete, hours in (await session.execute(credited)).all():
        teachers = max(counts.pop(org_id, 0), with_credit)
        rows.append(_row(org_id, teachers, with_credit, complete, hours))
    rows += [_row(org_id, n, 0, 0, Decimal(0)) for org_id, n in counts.items()]
    rows.sort(key=lambda r: r.org_id)
    return TotalsRead(year=year, level=level, parent=parent, rows=rows)


def _in_scope(table: type[TeacherYear] | type[Teacher], actor: Principal) -> list[Any]:
    columns = ("province_id", "city_id", "county_id", "school_id")
    return [getattr(table, c) == org for c, org in zip(columns, actor.org_path, strict=False)]


def _row(org_id: str, teachers: int, with_credit: int, complete: int, hours: Decimal) -> OrgTotal:
    return OrgTotal(
        org_id=org_id,
        teachers=teachers,
        teachers_with_credit=with_credit,
        complete=complete,
        completion_rate=round(complete / teachers, 4) if teachers else 0.0,
        counted_hours=Decimal(hours),
    )


def totals_xlsx(totals: TotalsRead) -> bytes:
    wb = Workbook()
    ws = wb.active
    assert ws is not None
    ws.title = f"{totals.year}年度学分统计"
    ws.append(["单位编号", "教师人数", "有学分人数", "完成人数", "完成率", "计入学时"])
    for r in totals.rows:
        ws.append(
            [
                r.org_id,
                r.teachers,
                r.teachers_with_credit,
                r.complete,
                r.completion_rate,
                float(r.counted_hours),
            ]
        )
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()


async def teacher_name(session: AsyncSession, teacher_id: uuid.UUID) -> str | None:
    known = await repo.teacher(session, teacher_id)
    if known is None:
        raise TeacherUnknown()
    return known.name
