"""Reports (统计): a teacher's transcript and totals with completion rates by school, county
and city, read from the teacher-year table (never by scanning the ledger)."""

from __future__ import annotations

import io
import uuid
from decimal import Decimal
from typing import Literal

from openpyxl import Workbook  # type: ignore[import-untyped]
from sqlalchemy import func, literal, select
from sqlalchemy.ext.asyncio import AsyncSession

from credits.ledger import repository as repo
from credits.ledger.errors import TeacherUnknown
from credits.ledger.models import OrgTeachers, OrgYearTotal, Teacher, TeacherYear
from credits.ledger.regions import regions
from credits.ledger.schemas import (
    CategoryBalance,
    OrgTotal,
    TotalsRead,
    TranscriptRead,
    TranscriptYear,
)
from credits.ledger.service import YearStatus, as_hours, statuses_of
from yanxiu.kit.auth import Principal
from yanxiu.kit.errors import Forbidden
from yanxiu.kit.reads import Db, Reader, tuples
from yanxiu.kit.spreadsheet import safe_row

Level = Literal["city", "county", "school"]
_PARENT_COLUMN = {"city": "province_id", "county": "city_id", "school": "county_id"}


def categories_of(status: YearStatus) -> list[CategoryBalance]:
    """Each recorded category, hours in one format (one decimal). A category that is not the
    region's own is shown with what was recorded, and counts nothing."""
    region = regions()[status.region]
    names = {c.code: c.name for c in region.categories}
    rows = []
    for code, recorded in status.recorded_by_category.items():
        own = code in status.counted_by_category
        counted = status.counted_by_category.get(code, as_hours(Decimal(0)))
        above = as_hours(max(recorded - counted, Decimal(0))) if own else as_hours(Decimal(0))
        cap = region.cap(code)
        rows.append(
            CategoryBalance(
                category=code,
                name=names.get(code, code),
                recorded_hours=recorded,
                counted_hours=counted,
                annual_cap=as_hours(cap) if cap is not None else None,
                above_cap_hours=above,
                note=(
                    None
                    if own and not above
                    else f"超出年度上限 {above} 学时，已登记但不计入 "
                    f"({above} h above the annual cap are kept but not counted)"
                    if own
                    else f"不是{region.name}的学时类别，已登记但不计入年度学时 "
                    f"(not a category of {region.code}: recorded, not counted)"
                ),
            )
        )
    return rows


async def transcript(
    reader: Reader, *, teacher_id: uuid.UUID, known: Teacher | None
) -> TranscriptRead:
    years = []
    kept = await repo.teacher_years(reader, teacher_id=teacher_id)
    statuses = await statuses_of(
        reader, teacher_id=teacher_id, known=known, ensure=[t.year for t in kept]
    )
    for ty in kept:
        status = statuses[ty.year]
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
    return TranscriptRead(teacher_id=teacher_id, name=known.name if known else None, years=years)


_DEPTH = {"city": 1, "county": 2, "school": 3}  # depth of the parent in an org path
_PATH_COLUMNS = ("province_id", "city_id", "county_id", "school_id")


async def org_totals(
    db: Db, *, actor: Principal, level: Level, parent: str, year: int
) -> TotalsRead:
    """Totals of each city (under a province), county (under a city) or school (under a
    county): teachers known, teachers with credit, complete, rate, counted hours. One row per
    org from the maintained totals; only orgs inside the caller's subtree."""
    if not actor.is_admin:
        raise Forbidden("只有管理员可以查看统计", "Reports are for administrators")
    depth, path = _DEPTH[level], actor.org_path
    only: str | None = None
    if len(path) > depth:  # the caller sits below `parent`: its own unit only
        if path[depth - 1] != parent:
            raise Forbidden("只能查看本级及下级的统计", "Reports cover your own subtree only")
        only = path[depth]
    elif (len(path) == depth and path[-1] != parent) or not await _within(db, actor, level, parent):
        raise Forbidden("只能查看本级及下级的统计", "Reports cover your own subtree only")
    totals = select(
        OrgYearTotal.org_id,
        func.sum(OrgYearTotal.with_credit),
        func.sum(OrgYearTotal.complete),
        func.sum(OrgYearTotal.counted_hours),
    ).where(
        OrgYearTotal.year == year, OrgYearTotal.level == level, OrgYearTotal.parent_id == parent
    )
    known = select(OrgTeachers.org_id, OrgTeachers.teachers).where(
        OrgTeachers.level == level, OrgTeachers.parent_id == parent, OrgTeachers.teachers > 0
    )
    if only is not None:
        totals = totals.where(OrgYearTotal.org_id == only)
        known = known.where(OrgTeachers.org_id == only)
    counts: dict[str, int] = {org: n for org, n in await tuples(db, known)}
    rows = []
    for org_id, with_credit, complete, hours in await tuples(
        db, totals.group_by(OrgYearTotal.org_id)
    ):
        teachers = max(counts.pop(org_id, 0), with_credit)
        rows.append(_row(org_id, teachers, with_credit, complete, hours))
    rows += [_row(org_id, n, 0, 0, Decimal(0)) for org_id, n in counts.items()]
    rows.sort(key=lambda r: r.org_id)
    return TotalsRead(year=year, level=level, parent=parent, rows=rows)


async def _within(db: Db, actor: Principal, level: Level, parent: str) -> bool:
    """Whether `parent` lies in the caller's subtree (the caller is at or above it)."""
    if len(actor.org_path) == _DEPTH[level]:
        return actor.org_path[-1] == parent
    for table in (TeacherYear, Teacher):
        probe = select(literal(1)).where(
            getattr(table, _PARENT_COLUMN[level]) == parent,
            *[getattr(table, c) == o for c, o in zip(_PATH_COLUMNS, actor.org_path, strict=False)],
        )
        if await db.scalar(probe.limit(1)):
            return True
    return False


def _row(org_id: str, teachers: int, with_credit: int, complete: int, hours: Decimal) -> OrgTotal:
    return OrgTotal(
        org_id=org_id,
        teachers=teachers,
        teachers_with_credit=with_credit,
        complete=complete,
        completion_rate=round(complete / teachers, 4) if teachers else 0.0,
        counted_hours=as_hours(Decimal(hours)),
    )


def totals_xlsx(totals: TotalsRead) -> bytes:
    wb = Workbook()
    ws = wb.active
    assert ws is not None
    ws.title = f"{totals.year}年度学分统计"
    ws.append(["单位编号", "教师人数", "有学分人数", "完成人数", "完成率", "计入学时"])
    for r in totals.rows:
        ws.append(
            safe_row(
                [
                    r.org_id,
                    r.teachers,
                    r.teachers_with_credit,
                    r.complete,
                    r.completion_rate,
                    float(r.counted_hours),
                ]
            )
        )
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()


async def teacher_name(session: AsyncSession, teacher_id: uuid.UUID) -> str | None:
    known = await repo.teacher(session, teacher_id)
    if known is None:
        raise TeacherUnknown()
    return known.name
