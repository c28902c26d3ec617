"""SQL for registration: projects, opened units, submissions and registrations."""

from __future__ import annotations

import uuid

from sqlalchemy import bindparam, delete, func, or_, select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from enrollment.models import Org, Project, ProjectUnit, Registration, Teacher, UnitSubmission
from yanxiu.kit.reads import Db, DriverReads, Prepared, by_key, loader, rows


async def get_project(db: Db, project_id: uuid.UUID) -> Project | None:
    return await by_key(db, Project, project_id)


async def find_project(
    session: AsyncSession, *, owner_org_id: str, year: int, stage: str
) -> Project | None:
    return await session.scalar(
        select(Project).where(
            Project.owner_org_id == owner_org_id, Project.year == year, Project.stage == stage
        )
    )


def _projects(*, of_city: bool) -> Prepared:
    stmt = select(Project).where(Project.province_id == bindparam("province_id"))
    if of_city:
        stmt = stmt.where(or_(Project.city_id.is_(None), Project.city_id == bindparam("city_id")))
    return Prepared(
        stmt.order_by(Project.year.desc(), Project.stage, Project.id).limit(bindparam("limit"))
    )


_PROJECTS_OF_PROVINCE = _projects(of_city=False)
_PROJECTS_OF_CITY = _projects(of_city=True)


async def list_projects(
    db: Db, *, province_id: str, city_id: str | None, limit: int
) -> list[Project]:
    """The projects of a province (all of them), or of a city (the province's and the city's
    own): those in reach of a caller at that place or below it."""
    if city_id is None:
        return await rows(db, Project, _PROJECTS_OF_PROVINCE, province_id=province_id, limit=limit)
    return await rows(
        db, Project, _PROJECTS_OF_CITY, province_id=province_id, city_id=city_id, limit=limit
    )


async def get_org(db: Db, org_id: str) -> Org | None:
    return await by_key(db, Org, org_id)


async def lock_unit(
    session: AsyncSession, *, project_id: uuid.UUID, org_id: str, shared: bool = False
) -> None:
    """A transaction-scoped advisory lock on one unit's list in a project: changes inside the
    unit take it shared, the unit's submission takes it exclusive, so nothing slips into a list
    while it is being submitted."""
    fn = func.pg_advisory_xact_lock_shared if shared else func.pg_advisory_xact_lock
    await session.execute(select(fn(func.hashtextextended(f"{project_id}:{org_id}", 0))))


async def get_unit(
    session: AsyncSession, *, project_id: uuid.UUID, org_id: str
) -> ProjectUnit | None:
    return await session.get(ProjectUnit, (project_id, org_id))


async def add_units(session: AsyncSession, units: list[dict[str, object]]) -> None:
    """Open units; already opened ones keep their first opening."""
    await session.execute(
        insert(ProjectUnit)
        .values(units)
        .on_conflict_do_nothing(index_elements=["project_id", "org_id"])
    )


async def page_units(
    session: AsyncSession,
    *,
    project_id: uuid.UUID,
    level: str,
    city_id: str | None,
    county_id: str | None,
    org_id: str | None,
    after: str | None,
    limit: int,
) -> list[ProjectUnit]:
    stmt = select(ProjectUnit).where(
        ProjectUnit.project_id == project_id, ProjectUnit.level == level
    )
    if city_id:
        stmt = stmt.where(ProjectUnit.city_id == city_id)
    if county_id:
        stmt = stmt.where(ProjectUnit.county_id == county_id)
    if org_id:
        stmt = stmt.where(ProjectUnit.org_id == org_id)
    if after is not None:
        stmt = stmt.where(ProjectUnit.org_id > after)
    return list((await session.scalars(stmt.order_by(ProjectUnit.org_id).limit(limit + 1))).all())


async def get_submission(
    session: AsyncSession, *, project_id: uuid.UUID, org_id: str
) -> UnitSubmission | None:
    return await session.get(UnitSubmission, (project_id, org_id))


async def unsubmitted_counties(
    session: AsyncSession, *, project_id: uuid.UUID, city_id: str
) -> list[str]:
    """Opened counties of the city that have not submitted yet."""
    submitted = select(UnitSubmission.org_id).where(
        UnitSubmission.project_id == project_id, UnitSubmission.org_id == ProjectUnit.org_id
    )
    stmt = (
        select(ProjectUnit.org_id)
        .where(
            ProjectUnit.project_id == project_id,
            ProjectUnit.level == "county",
            ProjectUnit.city_id == city_id,
            ~submitted.exists(),
        )
        .order_by(ProjectUnit.org_id)
    )
    return list((await session.scalars(stmt)).all())


async def add_submission(session: AsyncSession, submission: UnitSubmission) -> None:
    session.add(submission)
    await session.flush()


async def page_submissions(
    session: AsyncSession,
    *,
    project_id: uuid.UUID,
    city_id: str | None,
    org_id: str | None,
    after: str | None,
    limit: int,
) -> list[UnitSubmission]:
    stmt = select(UnitSubmission).where(UnitSubmission.project_id == project_id)
    if city_id:
        stmt = stmt.where(UnitSubmission.city_id == city_id)
    if org_id:
        stmt = stmt.where(UnitSubmission.org_id == org_id)
    if after is not None:
        stmt = stmt.where(UnitSubmission.org_id > after)
    stmt = stmt.order_by(UnitSubmission.org_id).limit(limit + 1)
    return list((await session.scalars(stmt)).all())


async def find_registration(
    session: AsyncSession, *, project_id: uuid.UUID, teacher_id: uuid.UUID
) -> Registration | None:
    return await session.scalar(
        select(Registration).where(
            Registration.project_id == project_id, Registration.teacher_id == teacher_id
        )
    )


async def get_registration(
    session: AsyncSession, *, project_id: uuid.UUID, registration_id: uuid.UUID
) -> Registration | None:
    reg = await session.get(Registration, registration_id)
    return reg if reg is not None and reg.project_id == project_id else None


async def delete_registration(session: AsyncSession, registration_id: uuid.UUID) -> None:
    await session.execute(delete(Registration).where(Registration.id == registration_id))


async def page_registrations(
    db: Db,
    *,
    project_id: uuid.UUID,
    city_id: str | None,
    county_id: str | None,
    school_id: str | None,
    subject: str | None,
    after: uuid.UUID | None,
    limit: int,
) -> list[tuple[Registration, str]]:
    """One keyset query: (project_id, <filter>, id) indexes serve each filter, no COUNT(*)."""
    stmt = (
        select(Registration, Teacher.name.label("teacher_name"))
        .join(Teacher, Teacher.id == Registration.teacher_id)
        .where(Registration.project_id == project_id)
    )
    if city_id:
        stmt = stmt.where(Registration.city_id == city_id)
    if county_id:
        stmt = stmt.where(Registration.county_id == county_id)
    if school_id:
        stmt = stmt.where(Registration.school_id == school_id)
    if subject:
        stmt = stmt.where(Registration.subject == subject)
    if after is not None:
        stmt = stmt.where(Registration.id > after)
    stmt = stmt.order_by(Registration.id).limit(limit + 1)
    if isinstance(db, DriverReads):
        load = loader(Registration)
        return [(load(row), row["teacher_name"]) for row in await db.records(stmt)]
    return [(r, name) for r, name in (await db.execute(stmt)).all()]
