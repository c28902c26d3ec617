"""SQL of attainment: completions (exactly once) and the stored evaluation state."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from learning.attainment.models import Attainment, Completion
from learning.rules.ruleset import Credited


async def insert_completion(session: AsyncSession, values: dict[str, Any]) -> bool:
    """True when inserted; False when (source, source_ref) was already recorded."""
    stmt = (
        insert(Completion)
        .values(**values)
        .on_conflict_do_nothing(index_elements=[Completion.source, Completion.source_ref])
        .returning(Completion.id)
    )
    return (await session.execute(stmt)).scalar_one_or_none() is not None


async def revoke(
    session: AsyncSession, *, source: str, source_ref: str, reason: str
) -> Completion | None:
    stmt = (
        update(Completion)
        .where(
            Completion.source == source,
            Completion.source_ref == source_ref,
            Completion.revoked_at.is_(None),
        )
        .values(revoked_at=datetime.now(UTC), revoke_reason=reason[:200])
        .returning(Completion)
    )
    return (await session.execute(stmt)).scalar_one_or_none()


async def live_credits(
    session: AsyncSession, *, teacher_id: uuid.UUID, project_id: uuid.UUID
) -> list[Credited]:
    """The teacher's live completions in the project, oldest first (review caps count the
    first ones)."""
    stmt = (
        select(Completion.category, Completion.hours, Completion.topic_id, Completion.course_code)
        .where(
            Completion.teacher_id == teacher_id,
            Completion.project_id == project_id,
            Completion.revoked_at.is_(None),
        )
        .order_by(Completion.completed_at, Completion.id)
    )
    return [Credited(*row) for row in (await session.execute(stmt)).all()]


async def lock_state(
    session: AsyncSession, *, teacher_id: uuid.UUID, project_id: uuid.UUID
) -> Attainment:
    """The teacher's evaluation state, created if new, locked until commit (one statement: an
    upsert that touches the row takes its lock): evaluations of one teacher run one after the
    other, so each sees the completions of the one before."""
    upsert = insert(Attainment).values(
        teacher_id=teacher_id, project_id=project_id, met=False, hours_by_category={}, total_hours=0
    )
    stmt = upsert.on_conflict_do_update(
        index_elements=[Attainment.teacher_id, Attainment.project_id],
        set_={"teacher_id": upsert.excluded.teacher_id},
    ).returning(Attainment)
    result = await session.execute(stmt, execution_options={"populate_existing": True})
    return result.scalar_one()


async def live_credits_of(
    session: AsyncSession, *, project_id: uuid.UUID, teacher_ids: list[uuid.UUID]
) -> dict[uuid.UUID, list[Credited]]:
    """`live_credits` of many teachers in one query."""
    stmt = (
        select(
            Completion.teacher_id,
            Completion.category,
            Completion.hours,
            Completion.topic_id,
            Completion.course_code,
        )
        .where(
            Completion.project_id == project_id,
            Completion.teacher_id.in_(teacher_ids),
            Completion.revoked_at.is_(None),
        )
        .order_by(Completion.teacher_id, Completion.completed_at, Completion.id)
    )
    found: dict[uuid.UUID, list[Credited]] = {}
    for teacher_id, category, hours, topic_id, course_code in (await session.execute(stmt)).all():
        found.setdefault(teacher_id, []).append(Credited(category, hours, topic_id, course_code))
    return found


async def lock_states(
    session: AsyncSession, *, project_id: uuid.UUID, teacher_ids: list[uuid.UUID]
) -> dict[uuid.UUID, Attainment]:
    """`lock_state` of many teachers in one statement, locked in teacher order."""
    upsert = insert(Attainment).values(
        [
            {
                "teacher_id": t,
                "project_id": project_id,
                "met": False,
                "hours_by_category": {},
                "total_hours": 0,
            }
            for t in sorted(teacher_ids)
        ]
    )
    stmt = upsert.on_conflict_do_update(
        index_elements=[Attainment.teacher_id, Attainment.project_id],
        set_={"teacher_id": upsert.excluded.teacher_id},
    ).returning(Attainment)
    result = await session.execute(stmt, execution_options={"populate_existing": True})
    return {a.teacher_id: a for a in result.scalars().all()}


async def teachers_with_completions(
    session: AsyncSession, project_id: uuid.UUID
) -> list[uuid.UUID]:
    stmt = select(Completion.teacher_id).where(Completion.project_id == project_id).distinct()
    return list((await session.scalars(stmt)).all())
