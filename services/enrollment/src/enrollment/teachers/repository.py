"""SQL for teachers."""

from __future__ import annotations

import uuid

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from enrollment.models import Teacher


async def get_teacher(session: AsyncSession, teacher_id: uuid.UUID) -> Teacher | None:
    return await session.get(Teacher, teacher_id)


async def teacher_by_id_index(session: AsyncSession, index: str) -> Teacher | None:
    return await session.scalar(select(Teacher).where(Teacher.id_number_index == index))
