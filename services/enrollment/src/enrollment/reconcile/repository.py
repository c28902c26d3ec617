"""The reconciliation's SQL in enrollment: the rosters the consumers should hold (built with
yanxiu.kit.roster from enrollment's own tables), org names for the report, and the teachers and
registrations a repair re-sends."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from typing import cast

from sqlalchemy import Table, case, literal, select
from sqlalchemy.ext.asyncio import AsyncSession

from enrollment.models import Org, Project, Registration, Teacher
from yanxiu.kit import roster
from yanxiu.kit.roster import ACTIVE, Digest, RosterColumns, RosterEntry

_TEACHERS = cast(Table, Teacher.__table__)
_REGISTERED = _TEACHERS.join(
    cast(Table, Registration.__table__), Registration.teacher_id == Teacher.id
)


# A registration belongs where its teacher is now (transfers move it), as a member in the status
# the consumers give it: "departed" while the teacher is in the departed pool (learning suspends
# the plan, lessons takes the member out of the pools), "active" otherwise.
REGISTERED_EXPECTED = RosterColumns(
    source=_REGISTERED,
    teacher_id=Teacher.id,
    province_id=Teacher.province_id,
    city_id=Teacher.city_id,
    county_id=Teacher.county_id,
    school_id=Teacher.school_id,
    status=case((Teacher.status == "departed", literal("departed")), else_=literal(ACTIVE)),
    project_id=Registration.project_id,
    registration_id=Registration.id,
)
# Credits knows every teacher, registered or not, with no status of its own.
TEACHERS_EXPECTED = RosterColumns(
    source=_TEACHERS,
    teacher_id=Teacher.id,
    province_id=Teacher.province_id,
    city_id=Teacher.city_id,
    county_id=Teacher.county_id,
    school_id=Teacher.school_id,
)


async def digests(
    session: AsyncSession,
    columns: RosterColumns,
    *,
    project_id: uuid.UUID | None,
    scope: Sequence[str],
    prefix: int,
) -> list[Digest]:
    stmt = roster.digests_query(columns, project_id=project_id, scope=scope, prefix=prefix)
    return roster.digests_of((await session.execute(stmt)).all(), prefix)


async def page(
    session: AsyncSession,
    columns: RosterColumns,
    *,
    project_id: uuid.UUID | None,
    scope: Sequence[str],
    id_from: uuid.UUID | None,
    id_to: uuid.UUID | None,
    after: uuid.UUID | None,
    limit: int,
) -> list[RosterEntry]:
    stmt = roster.page_query(
        columns,
        project_id=project_id,
        scope=scope,
        id_from=id_from,
        id_to=id_to,
        after=after,
        limit=limit,
    )
    return roster.entries((await session.execute(stmt)).all())


async def get_project(session: AsyncSession, project_id: uuid.UUID) -> Project | None:
    return await session.get(Project, project_id)


async def org_names(session: AsyncSession, org_ids: Sequence[str]) -> dict[str, str]:
    if not org_ids:
        return {}
    rows = await session.execute(select(Org.id, Org.name).where(Org.id.in_(list(org_ids))))
    return {i: n for i, n in rows.all()}


async def teachers_known(
    session: AsyncSession, teacher_ids: Sequence[uuid.UUID]
) -> dict[uuid.UUID, Teacher]:
    """The teachers enrollment has among these (a repair re-sends nothing for the others)."""
    if not teacher_ids:
        return {}
    rows = await session.scalars(select(Teacher).where(Teacher.id.in_(list(teacher_ids))))
    return {t.id: t for t in rows.all()}


async def registered_among(
    session: AsyncSession, *, project_id: uuid.UUID, teacher_ids: Sequence[uuid.UUID]
) -> set[uuid.UUID]:
    if not teacher_ids:
        return set()
    rows = await session.scalars(
        select(Registration.teacher_id).where(
            Registration.project_id == project_id,
            Registration.teacher_id.in_(list(teacher_ids)),
        )
    )
    return set(rows.all())


async def project_ids(session: AsyncSession) -> list[uuid.UUID]:
    """Every project, newest year first (`yanxiu reconcile` without --project)."""
    rows = await session.scalars(
        select(Project.id).order_by(Project.year.desc(), Project.stage, Project.id)
    )
    return list(rows.all())


async def get_org(session: AsyncSession, org_id: str) -> Org | None:
    return await session.get(Org, org_id)
