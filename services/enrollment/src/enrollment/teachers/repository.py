"""SQL for teachers and their change history."""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from enrollment.models import Teacher, TeacherChange
from yanxiu.kit import writes
from yanxiu.kit.reads import Db, by_key, rows

# The column that holds each level of a teacher's org path (province … school).
_LEVEL_COLUMN = (Teacher.province_id, Teacher.city_id, Teacher.county_id, Teacher.school_id)


@dataclass(frozen=True)
class TeacherFilter:
    scope: tuple[str, ...]  # the caller's org path: rows must lie under it
    school_id: str | None = None
    county_id: str | None = None
    city_id: str | None = None
    status: str | None = None
    stage: str | None = None
    subject: str | None = None
    verified: bool | None = None
    name_prefix: str | None = None
    id_number_index: str | None = None


async def get_teacher(db: Db, teacher_id: uuid.UUID) -> Teacher | None:
    return await by_key(db, Teacher, teacher_id)


async def lock_teacher(session: AsyncSession, teacher_id: uuid.UUID) -> Teacher | None:
    """The record, locked until commit, so that concurrent changes queue behind each other."""
    return await session.scalar(
        select(Teacher)
        .where(Teacher.id == teacher_id)
        .with_for_update()
        .execution_options(populate_existing=True)
    )


async def teacher_by_id_index(session: AsyncSession, index: str) -> Teacher | None:
    return await session.scalar(select(Teacher).where(Teacher.id_number_index == index))


def _escape_like(value: str) -> str:
    return value.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


async def list_teachers(
    db: Db, *, where: TeacherFilter, after: uuid.UUID | None, limit: int
) -> list[Teacher]:
    stmt = select(Teacher).order_by(Teacher.id).limit(limit)
    if not where.scope:
        return []
    stmt = stmt.where(_LEVEL_COLUMN[len(where.scope) - 1] == where.scope[-1])
    for column, value in (
        (Teacher.school_id, where.school_id),
        (Teacher.county_id, where.county_id),
        (Teacher.city_id, where.city_id),
        (Teacher.status, where.status),
        (Teacher.stage, where.stage),
        (Teacher.subject, where.subject),
        (Teacher.verified, where.verified),
        (Teacher.id_number_index, where.id_number_index),
    ):
        if value is not None:
            stmt = stmt.where(column == value)
    if where.name_prefix:
        stmt = stmt.where(Teacher.name.like(_escape_like(where.name_prefix) + "%", escape="\\"))
    if after is not None:
        stmt = stmt.where(Teacher.id > after)
    return await rows(db, Teacher, stmt)


async def add_change(session: AsyncSession, change: TeacherChange) -> None:
    await writes.add(session, change)


async def add_teacher(session: AsyncSession, teacher: Teacher) -> None:
    """A new record; a twin of its ID number is refused by the unique blind index
    (`IntegrityError`)."""
    await writes.add(session, teacher)


async def history(
    db: Db, *, teacher_id: uuid.UUID, after: int | None, limit: int
) -> list[TeacherChange]:
    stmt = (
        select(TeacherChange)
        .where(TeacherChange.teacher_id == teacher_id)
        .order_by(TeacherChange.id)
        .limit(limit)
    )
    if after is not None:
        stmt = stmt.where(TeacherChange.id > after)
    return await rows(db, TeacherChange, stmt)
