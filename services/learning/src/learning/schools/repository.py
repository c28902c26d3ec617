"""SQL of the schools read model and of moving a teacher's records to another school."""

from __future__ import annotations

import uuid
from collections.abc import Iterable

from sqlalchemy import func, select, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from learning.models import Plan
from learning.progress.models import CourseProgress
from learning.schools.models import School
from yanxiu.contracts.envelope import OrgPath


async def upsert_schools(session: AsyncSession, orgs: Iterable[OrgPath]) -> None:
    """Record each school's place; a later event for the same school wins. One statement."""
    latest = {o.school_id: o for o in orgs}
    if not latest:
        return
    stmt = insert(School).values(
        [
            {
                "school_id": o.school_id,
                "province_id": o.province_id,
                "city_id": o.city_id,
                "county_id": o.county_id,
            }
            for o in latest.values()
        ]
    )
    changed = (
        (School.province_id != stmt.excluded.province_id)
        | (School.city_id != stmt.excluded.city_id)
        | (School.county_id != stmt.excluded.county_id)
    )
    await session.execute(
        stmt.on_conflict_do_update(
            index_elements=[School.school_id],
            set_={
                "province_id": stmt.excluded.province_id,
                "city_id": stmt.excluded.city_id,
                "county_id": stmt.excluded.county_id,
                "updated_at": func.now(),
            },
            where=changed,
        )
    )


async def get_school(session: AsyncSession, school_id: str) -> School | None:
    return await session.get(School, school_id)


async def has_plan_at(session: AsyncSession, *, teacher_id: uuid.UUID, school_id: str) -> bool:
    """The teacher has a plan placed at this school (learning's own record of where they are)."""
    stmt = select(Plan.id).where(Plan.teacher_id == teacher_id, Plan.school_id == school_id)
    return (await session.scalar(stmt.limit(1))) is not None


async def move_teacher(session: AsyncSession, *, teacher_id: uuid.UUID, org: OrgPath) -> int:
    """Place every plan of the teacher, and the per-course progress under them, at `org`.
    Returns how many plans moved (0 when they were there already: a replayed event)."""
    place = {
        "province_id": org.province_id,
        "city_id": org.city_id,
        "county_id": org.county_id,
        "school_id": org.school_id,
    }
    elsewhere = Plan.school_id != org.school_id
    moved = await session.execute(
        update(Plan).where(Plan.teacher_id == teacher_id, elsewhere).values(**place)
    )
    await session.execute(
        update(CourseProgress)
        .where(CourseProgress.teacher_id == teacher_id, CourseProgress.school_id != org.school_id)
        .values(**place)
    )
    return int(getattr(moved, "rowcount", 0) or 0)
