"""SQL for workshops, hosts, members and cases."""

from __future__ import annotations

import uuid
from collections.abc import Sequence

from sqlalchemy import ColumnElement, delete, false, func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from enrollment.models import (
    Registration,
    Workshop,
    WorkshopCase,
    WorkshopHost,
    WorkshopMember,
)


async def get_workshop(session: AsyncSession, workshop_id: uuid.UUID) -> Workshop | None:
    return await session.get(Workshop, workshop_id)


async def find_workshop(
    session: AsyncSession, *, project_id: uuid.UUID, org_id: str, name: str
) -> Workshop | None:
    return await session.scalar(
        select(Workshop).where(
            Workshop.project_id == project_id, Workshop.org_id == org_id, Workshop.name == name
        )
    )


async def page_workshops(
    session: AsyncSession,
    *,
    project_id: uuid.UUID,
    org_path: Sequence[str],
    subject: str | None,
    after: uuid.UUID | None,
    limit: int,
) -> list[Workshop]:
    """Workshops of the caller's own units and ancestors, and of every unit below it."""
    below: ColumnElement[bool]
    if len(org_path) == 1:
        below = Workshop.province_id == org_path[0]
    elif len(org_path) == 2:
        below = Workshop.city_id == org_path[1]
    elif len(org_path) == 3:
        below = Workshop.county_id == org_path[2]
    else:
        below = false()
    stmt = select(Workshop).where(
        Workshop.project_id == project_id, or_(Workshop.org_id.in_(list(org_path)), below)
    )
    if subject:
        stmt = stmt.where(Workshop.subject == subject)
    if after is not None:
        stmt = stmt.where(Workshop.id > after)
    return list((await session.scalars(stmt.order_by(Workshop.id).limit(limit + 1))).all())


async def hosts(session: AsyncSession, workshop_id: uuid.UUID) -> list[WorkshopHost]:
    stmt = select(WorkshopHost).where(WorkshopHost.workshop_id == workshop_id)
    return list((await session.scalars(stmt.order_by(WorkshopHost.user_id))).all())


async def replace_hosts(
    session: AsyncSession, *, workshop_id: uuid.UUID, hosts: list[WorkshopHost]
) -> None:
    await session.execute(delete(WorkshopHost).where(WorkshopHost.workshop_id == workshop_id))
    session.add_all(hosts)
    await session.flush()


async def is_host(session: AsyncSession, *, workshop_id: uuid.UUID, user_id: str) -> bool:
    return await session.get(WorkshopHost, (workshop_id, user_id)) is not None


async def registration_of(
    session: AsyncSession, *, project_id: uuid.UUID, teacher_id: uuid.UUID
) -> Registration | None:
    return await session.scalar(
        select(Registration).where(
            Registration.project_id == project_id, Registration.teacher_id == teacher_id
        )
    )


async def get_member(
    session: AsyncSession, *, workshop_id: uuid.UUID, teacher_id: uuid.UUID
) -> WorkshopMember | None:
    return await session.get(WorkshopMember, (workshop_id, teacher_id))


async def add(session: AsyncSession, row: object) -> None:
    session.add(row)
    await session.flush()


async def get_case(session: AsyncSession, case_id: uuid.UUID) -> WorkshopCase | None:
    return await session.get(WorkshopCase, case_id)


async def page_cases(
    session: AsyncSession, *, workshop_id: uuid.UUID, after: uuid.UUID | None, limit: int
) -> list[WorkshopCase]:
    stmt = select(WorkshopCase).where(WorkshopCase.workshop_id == workshop_id)
    if after is not None:
        stmt = stmt.where(WorkshopCase.id > after)
    return list((await session.scalars(stmt.order_by(WorkshopCase.id).limit(limit + 1))).all())


async def lock_quota(session: AsyncSession, *, project_id: uuid.UUID, unit: str) -> None:
    """Serialises recommendations of one unit so that two at once cannot pass the cap."""
    key = func.hashtextextended(f"cases:{project_id}:{unit}", 0)
    await session.execute(select(func.pg_advisory_xact_lock(key)))


async def county_case_counts(
    session: AsyncSession, *, project_id: uuid.UUID, county_id: str
) -> tuple[int, int]:
    """(cases of the county's workshops, of which recommended to the city)."""
    stmt = select(func.count(), func.count(WorkshopCase.county_recommended_at)).where(
        WorkshopCase.project_id == project_id,
        WorkshopCase.origin_level == "county",
        WorkshopCase.county_id == county_id,
    )
    total, used = (await session.execute(stmt)).one()
    return int(total), int(used)


async def city_case_counts(
    session: AsyncSession, *, project_id: uuid.UUID, city_id: str
) -> tuple[int, int]:
    """(cases at the city: its own workshops' plus those its counties recommended, of which
    recommended to the province)."""
    stmt = select(func.count(), func.count(WorkshopCase.city_recommended_at)).where(
        WorkshopCase.project_id == project_id,
        WorkshopCase.city_id == city_id,
        or_(WorkshopCase.origin_level == "city", WorkshopCase.county_recommended_at.is_not(None)),
    )
    total, used = (await session.execute(stmt)).one()
    return int(total), int(used)
