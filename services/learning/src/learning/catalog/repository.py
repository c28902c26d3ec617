"""SQL of the catalogue."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from typing import Any

from sqlalchemy import Select, func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from learning.catalog.models import Course, Topic
from yanxiu.kit.reads import Reader


async def topics(reader: Reader) -> list[Topic]:
    return await reader.all(Topic, select(Topic).order_by(Topic.is_ethics.desc(), Topic.id))


async def topic_ids(session: AsyncSession, ids: Sequence[str]) -> set[str]:
    return set((await session.scalars(select(Topic.id).where(Topic.id.in_(ids)))).all())


async def code_taken(session: AsyncSession, code: str) -> bool:
    return (await session.scalar(select(Course.id).where(Course.code == code))) is not None


def for_stage_subject(stmt: Select[Any], stage: str | None, subject: str | None) -> Select[Any]:
    """An empty stages/subjects list means the course is for every stage/subject."""
    if stage:
        stmt = stmt.where(
            or_(func.cardinality(Course.stages) == 0, Course.stages.contains([stage]))
        )
    if subject:
        stmt = stmt.where(
            or_(func.cardinality(Course.subjects) == 0, Course.subjects.contains([subject]))
        )
    return stmt


async def list_courses(
    reader: Reader,
    *,
    stage: str | None,
    subject: str | None,
    scope: str | None,
    kind: str | None,
    topic_id: str | None,
    after: uuid.UUID | None,
    limit: int,
) -> list[Course]:
    stmt = for_stage_subject(select(Course), stage, subject)
    if scope:
        stmt = stmt.where(Course.scope == scope)
    if kind:
        stmt = stmt.where(Course.kind == kind)
    if topic_id:
        stmt = stmt.where(Course.topic_id == topic_id)
    if after is not None:
        stmt = stmt.where(Course.id > after)
    return await reader.all(Course, stmt.order_by(Course.id).limit(limit + 1))
