"""SQL for registration."""

from __future__ import annotations

import uuid

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from enrollment.models import Project, Registration


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
