"""SQL of the schools read model and of moving a teacher's records to another school."""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Sequence
from typing import Any

from sqlalchemy import Row, func, select, text
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from learning.models import Plan
from learning.schools.models import School
from yanxiu.contracts.envelope import OrgPath
from yanxiu.kit.reads import Db, Reader, by_key


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


async def get_school(db: Db, school_id: str) -> School | None:
    return await by_key(db, School, school_id)


async def has_plan_at(reader: Reader, *, teacher_id: uuid.UUID, school_id: str) -> bool:
    """The teacher has a plan placed at this school (learning's own record of where they are)."""
    stmt = select(Plan.id).where(Plan.teacher_id == teacher_id, Plan.school_id == school_id)
    return (await reader.scalar(stmt.limit(1))) is not None


# A teacher's standing as enrollment last told it: (teacher, org path, still employed). Every
# plan of the teacher is placed at the org, and its status follows employment: an active plan
# of a departed teacher is suspended ("departed"), a departed plan of an employed teacher
# resumes ("active"); a withdrawn plan stays withdrawn. Only rows that change are written, so
# a replayed or unchanged fact writes nothing.
_FOLLOW_PLANS = text(
    "WITH u AS (SELECT * FROM unnest(CAST(:t AS uuid[]), CAST(:province AS text[]), "
    "CAST(:city AS text[]), CAST(:county AS text[]), CAST(:school AS text[]), "
    "CAST(:employed AS boolean[])) AS u(t, province_id, city_id, county_id, school_id, employed)) "
    "UPDATE learning.plans p SET province_id = u.province_id, city_id = u.city_id, "
    "county_id = u.county_id, school_id = u.school_id, status = CASE "
    "WHEN p.status = 'active' AND NOT u.employed THEN 'departed' "
    "WHEN p.status = 'departed' AND u.employed THEN 'active' ELSE p.status END, "
    "updated_at = now() FROM u WHERE p.teacher_id = u.t AND ("
    "(p.province_id, p.city_id, p.county_id, p.school_id) "
    "IS DISTINCT FROM (u.province_id, u.city_id, u.county_id, u.school_id) "
    "OR (p.status = 'active' AND NOT u.employed) OR (p.status = 'departed' AND u.employed)) "
    "RETURNING p.teacher_id, p.project_id, p.project_year, p.status, p.province_id, "
    "p.city_id, p.county_id, p.school_id"
)
# The per-course progress under the plans carries the same place (the refusal counters and
# completion events read the plan's place when they are written, so they follow by themselves).
_FOLLOW_PROGRESS = text(
    "WITH u AS (SELECT * FROM unnest(CAST(:t AS uuid[]), CAST(:province AS text[]), "
    "CAST(:city AS text[]), CAST(:county AS text[]), CAST(:school AS text[])) "
    "AS u(t, province_id, city_id, county_id, school_id)) "
    "UPDATE learning.course_progress c SET province_id = u.province_id, city_id = u.city_id, "
    "county_id = u.county_id, school_id = u.school_id FROM u WHERE c.teacher_id = u.t AND "
    "(c.province_id, c.city_id, c.county_id, c.school_id) "
    "IS DISTINCT FROM (u.province_id, u.city_id, u.county_id, u.school_id)"
)


async def follow_teachers(
    session: AsyncSession, standings: Sequence[tuple[uuid.UUID, OrgPath, bool]]
) -> list[Row[Any]]:
    """Place every plan of each teacher, and the course progress under them, at the teacher's
    org, with the plan status employment says (see `_FOLLOW_PLANS`). Teachers must not repeat.
    Two statements whatever the batch; returns the plans that changed, as they stand now
    (none for a replay)."""
    if not standings:
        return []
    cols = {
        "t": [t for t, _, _ in standings],
        "province": [o.province_id for _, o, _ in standings],
        "city": [o.city_id for _, o, _ in standings],
        "county": [o.county_id for _, o, _ in standings],
        "school": [o.school_id for _, o, _ in standings],
    }
    changed = await session.execute(
        _FOLLOW_PLANS, {**cols, "employed": [e for _, _, e in standings]}
    )
    plans = list(changed.all())
    await session.execute(_FOLLOW_PROGRESS, cols)
    return plans
