"""Read queries of progress: a teacher's progress rows, refusal counts in an admin's scope."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from typing import Any

from sqlalchemy import any_, bindparam, func, select
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.dialects.postgresql import UUID as PgUUID

from learning.catalog.models import Course
from learning.progress.models import CourseProgress, Refusals
from yanxiu.kit.reads import Prepared, Reader, loader


def _progress(*, in_projects: bool, after: bool) -> Prepared:
    stmt = (
        select(CourseProgress, Course.title.label("course_title"))
        .join(Course, Course.id == CourseProgress.course_id, isouter=True)
        .where(CourseProgress.teacher_id == bindparam("teacher_id"))
        .order_by(CourseProgress.id)
        .limit(bindparam("limit"))
    )
    if in_projects:
        projects = bindparam("projects", type_=ARRAY(PgUUID(as_uuid=True)))
        stmt = stmt.where(CourseProgress.project_id == any_(projects))
    if after:
        stmt = stmt.where(CourseProgress.id > bindparam("after"))
    return Prepared(stmt)


# By (some projects only, after a cursor): one statement per shape, built once.
_PROGRESS = {
    (in_projects, after): _progress(in_projects=in_projects, after=after)
    for in_projects in (False, True)
    for after in (False, True)
}


async def progress_of(
    reader: Reader,
    *,
    teacher_id: uuid.UUID,
    after: uuid.UUID | None,
    limit: int,
    projects: set[uuid.UUID] | None = None,
) -> list[tuple[CourseProgress, str | None]]:
    """The teacher's progress rows, in the given projects only unless `projects` is None."""
    params: dict[str, Any] = {"teacher_id": teacher_id, "limit": limit + 1}
    if projects is not None:
        params["projects"] = list(projects)
    if after is not None:
        params["after"] = after
    stmt = _PROGRESS[(projects is not None, after is not None)]
    load = loader(CourseProgress)
    return [(load(r), r["course_title"]) for r in await reader.records(stmt, **params)]


def _scope(stmt: Any, org_path: Sequence[str]) -> Any:
    cols = (Refusals.province_id, Refusals.city_id, Refusals.county_id, Refusals.school_id)
    for col, org in zip(cols, org_path, strict=False):
        stmt = stmt.where(col == org)
    return stmt


async def refusals_by_reason(
    reader: Reader, *, scope: Sequence[str], filters: dict[str, Any]
) -> dict[str, int]:
    stmt = _filtered(
        select(Refusals.reason, func.sum(Refusals.count)).group_by(Refusals.reason), scope, filters
    )
    return {r[0]: int(r[1]) for r in await reader.records(stmt)}


async def refusals_by_school(
    reader: Reader,
    *,
    scope: Sequence[str],
    filters: dict[str, Any],
    after: str | None,
    limit: int,
) -> list[tuple[str, str, str, dict[str, int]]]:
    """(school, county, city, {reason: count}) per school, ordered by school id."""
    schools = (
        _filtered(select(Refusals.school_id).group_by(Refusals.school_id), scope, filters)
        .order_by(Refusals.school_id)
        .limit(limit + 1)
    )
    if after is not None:
        schools = schools.where(Refusals.school_id > after)
    ids = await reader.scalars(schools)
    if not ids:
        return []
    stmt = _filtered(
        select(
            Refusals.school_id,
            Refusals.county_id,
            Refusals.city_id,
            Refusals.reason,
            func.sum(Refusals.count),
        )
        .where(Refusals.school_id.in_(ids))
        .group_by(Refusals.school_id, Refusals.county_id, Refusals.city_id, Refusals.reason),
        scope,
        filters,
    )
    out: dict[str, tuple[str, str, dict[str, int]]] = {}
    for school, county, city, reason, n in await reader.records(stmt):
        out.setdefault(school, (county, city, {}))[2][reason] = int(n)
    return [(s, out[s][0], out[s][1], out[s][2]) for s in ids if s in out]


def _filtered(stmt: Any, scope: Sequence[str], filters: dict[str, Any]) -> Any:
    stmt = _scope(stmt, scope)
    if filters.get("project_id") is not None:
        stmt = stmt.where(Refusals.project_id == filters["project_id"])
    for name in ("city_id", "county_id", "school_id"):
        if filters.get(name) is not None:
            stmt = stmt.where(getattr(Refusals, name) == filters[name])
    if filters.get("day_from") is not None:
        stmt = stmt.where(Refusals.day >= filters["day_from"])
    if filters.get("day_to") is not None:
        stmt = stmt.where(Refusals.day <= filters["day_to"])
    return stmt
