"""SQL of selection."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import UTC, datetime

from sqlalchemy import delete, select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from learning.catalog.models import Course, Topic
from learning.models import Plan
from learning.reading import column, pairs
from learning.selection.models import SchoolTopic, Selection
from yanxiu.kit import writes
from yanxiu.kit.reads import Db, first, rows


async def school_topic_ids(db: Db, *, project_id: uuid.UUID, school_id: str) -> set[str]:
    stmt = select(SchoolTopic.topic_id).where(
        SchoolTopic.project_id == project_id, SchoolTopic.school_id == school_id
    )
    return set(await column(db, stmt))


async def replace_school_topics(
    session: AsyncSession,
    *,
    project_id: uuid.UUID,
    school_id: str,
    topic_ids: Sequence[str],
    by: str,
) -> None:
    await session.execute(
        delete(SchoolTopic).where(
            SchoolTopic.project_id == project_id, SchoolTopic.school_id == school_id
        )
    )
    if topic_ids:
        await session.execute(
            insert(SchoolTopic),
            [
                {"project_id": project_id, "school_id": school_id, "topic_id": t, "chosen_by": by}
                for t in topic_ids
            ],
        )


async def topics_by_id(db: Db, ids: Sequence[str]) -> list[Topic]:
    stmt = select(Topic).where(Topic.id.in_(ids)).order_by(Topic.is_ethics.desc(), Topic.id)
    return await rows(db, Topic, stmt)


async def lock_plan(db: Db, *, teacher_id: uuid.UUID, project_id: uuid.UUID) -> Plan | None:
    """The plan row, locked until the transaction ends: a teacher's concurrent selections are
    checked one at a time. Read to check, not to change (a write's `SessionReads` will do)."""
    stmt = (
        select(Plan)
        .where(Plan.teacher_id == teacher_id, Plan.project_id == project_id)
        .with_for_update()
    )
    return await first(db, Plan, stmt)


async def selected(
    db: Db, *, teacher_id: uuid.UUID, project_id: uuid.UUID
) -> list[tuple[Selection, Course]]:
    stmt = (
        select(Selection, Course)
        .join(Course, Course.id == Selection.course_id)
        .where(Selection.teacher_id == teacher_id, Selection.project_id == project_id)
        .order_by(Selection.id)
    )
    return await pairs(db, stmt, Selection, Course)


async def add(
    session: AsyncSession, *, teacher_id: uuid.UUID, project_id: uuid.UUID, course_id: uuid.UUID
) -> Selection:
    row = Selection(
        id=uuid.uuid4(),
        teacher_id=teacher_id,
        project_id=project_id,
        course_id=course_id,
        created_at=datetime.now(UTC),
    )
    await writes.add(session, row)
    return row


async def remove(session: AsyncSession, selection: Selection) -> None:
    await session.delete(selection)
    await session.flush()
