"""All SQL of the enrollment service."""

from __future__ import annotations

import uuid

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from enrollment.models import Org, Project, Registration, Teacher


async def get_org(session: AsyncSession, org_id: str) -> Org | None:
    return await session.get(Org, org_id)


async def list_orgs(session: AsyncSession, *, parent_id: str | None, limit: int) -> list[Org]:
    stmt = select(Org).order_by(Org.id).limit(limit)
    stmt = (
        stmt.where(Org.parent_id == parent_id) if parent_id else stmt.where(Org.parent_id.is_(None))
    )
    return list((await session.scalars(stmt)).all())


async def get_teacher(session: AsyncSession, teacher_id: uuid.UUID) -> Teacher | None:
    return await session.get(Teacher, teacher_id)


async def teacher_by_id_index(session: AsyncSession, index: str) -> Teacher | None:
    return await session.scalar(select(Teacher).where(Teacher.id_number_index == index))


async def get_project(session: AsyncSession, project_id: uuid.UUID) -> Project | None:
    return await session.get(Project, project_id)


async def find_project(session: AsyncSession, *, year: int, stage: str) -> Project | None:
    return await session.scalar(select(Project).where(Project.year == year, Project.stage == stage))


async def list_projects(session: AsyncSession, *, limit: int) -> list[Project]:
    stmt = select(Project).order_by(Project.year.desc(), Project.stage).limit(limit)
    return list((await session.scalars(stmt)).all())


async def find_registration(
    session: AsyncSession, *, project_id: uuid.UUID, teacher_id: uuid.UUID
) -> Registration | None:
    return await session.scalar(
        select(Registration).where(
            Registration.project_id == project_id, Registration.teacher_id == teacher_id
        )
    )


def add(session: AsyncSession, row: object) -> None:
    session.add(row)
