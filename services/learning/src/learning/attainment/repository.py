"""SQL of attainment: completions (exactly once per fact, once per course), attempts and held
completions, and the stored evaluation state."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import and_, bindparam, func, or_, select, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from learning.attainment.models import Attainment, Completion, CompletionAttempt
from learning.models import Plan
from learning.reading import pairs, prepared_tuples
from learning.rules.ruleset import Credited
from yanxiu.kit import writes
from yanxiu.kit.reads import Db, Prepared, Reader


async def insert_completion(session: AsyncSession, values: dict[str, Any]) -> bool:
    """True when inserted; False when (source, source_ref) was already recorded or the course
    already has a live completion for the teacher in the project (the partial unique index):
    no conflict target, so either constraint makes it a no-op, and a concurrent insert of the
    same course waits for the other transaction and then finds its row."""
    stmt = insert(Completion).values(**values).on_conflict_do_nothing().returning(Completion.id)
    return bool(await writes.run(session, stmt))


async def completion_by_source(
    session: AsyncSession, *, source: str, source_ref: str
) -> Completion | None:
    stmt = select(Completion).where(
        Completion.source == source, Completion.source_ref == source_ref
    )
    return (await session.execute(stmt)).scalar_one_or_none()


async def attempt_by_source(
    session: AsyncSession, *, source: str, source_ref: str
) -> CompletionAttempt | None:
    stmt = select(CompletionAttempt).where(
        CompletionAttempt.source == source, CompletionAttempt.source_ref == source_ref
    )
    return (await session.execute(stmt)).scalar_one_or_none()


async def live_completion(
    session: AsyncSession, *, teacher_id: uuid.UUID, project_id: uuid.UUID, course_key: str
) -> Completion | None:
    """The completion counting for the course, locked (its best score may be raised)."""
    stmt = (
        select(Completion)
        .where(
            Completion.teacher_id == teacher_id,
            Completion.project_id == project_id,
            Completion.course_key == course_key,
            Completion.revoked_at.is_(None),
        )
        .with_for_update()
    )
    return (await session.execute(stmt)).scalar_one_or_none()


async def insert_attempt(session: AsyncSession, values: dict[str, Any]) -> uuid.UUID | None:
    """The attempt's id; None when (source, source_ref) was recorded as an attempt already."""
    stmt = (
        insert(CompletionAttempt)
        .values({"id": uuid.uuid4(), **values})
        .on_conflict_do_nothing(
            index_elements=[CompletionAttempt.source, CompletionAttempt.source_ref]
        )
        .returning(CompletionAttempt.id)
    )
    found = await writes.run(session, stmt)
    return found[0][0] if found else None


async def next_attempt(
    session: AsyncSession, *, teacher_id: uuid.UUID, project_id: uuid.UUID, course_key: str
) -> CompletionAttempt | None:
    """The earliest live attempt at the course (the one that counts when the counted
    completion is revoked), locked."""
    stmt = (
        select(CompletionAttempt)
        .where(
            CompletionAttempt.teacher_id == teacher_id,
            CompletionAttempt.project_id == project_id,
            CompletionAttempt.course_key == course_key,
            CompletionAttempt.status == "attempt",
        )
        .order_by(
            CompletionAttempt.completed_at, CompletionAttempt.created_at, CompletionAttempt.id
        )
        .limit(1)
        .with_for_update()
    )
    return (await session.execute(stmt)).scalar_one_or_none()


async def best_attempt_score(
    session: AsyncSession, *, teacher_id: uuid.UUID, project_id: uuid.UUID, course_key: str
) -> Decimal | None:
    """The best score among the live attempts at the course."""
    stmt = select(func.max(CompletionAttempt.score)).where(
        CompletionAttempt.teacher_id == teacher_id,
        CompletionAttempt.project_id == project_id,
        CompletionAttempt.course_key == course_key,
        CompletionAttempt.status == "attempt",
    )
    best: Decimal | None = (await session.execute(stmt)).scalar_one_or_none()
    return best


async def withdraw_attempt(
    session: AsyncSession, *, source: str, source_ref: str, reason: str
) -> CompletionAttempt | None:
    """An attempt or held completion its sender retracted or voided: it will never count."""
    stmt = (
        update(CompletionAttempt)
        .where(
            CompletionAttempt.source == source,
            CompletionAttempt.source_ref == source_ref,
            CompletionAttempt.status.in_(("attempt", "held")),
        )
        .values(status="withdrawn", reason=reason[:300], decided_at=datetime.now(UTC))
        .returning(CompletionAttempt)
    )
    return (await session.execute(stmt)).scalar_one_or_none()


async def attempt_for_update(
    session: AsyncSession, attempt_id: uuid.UUID
) -> CompletionAttempt | None:
    stmt = select(CompletionAttempt).where(CompletionAttempt.id == attempt_id).with_for_update()
    return (await session.execute(stmt)).scalar_one_or_none()


def _in_scope(org_path: Sequence[str]) -> Any:
    """Plans whose stored school lies in the subtree `org_path` names."""
    columns = (Plan.province_id, Plan.city_id, Plan.county_id, Plan.school_id)
    return and_(*(c == v for c, v in zip(columns, org_path, strict=False)))


async def held_in_scope(
    reader: Reader,
    *,
    org_path: Sequence[str],
    project_id: uuid.UUID | None,
    after: tuple[datetime, uuid.UUID] | None,
    limit: int,
) -> list[tuple[CompletionAttempt, Plan]]:
    """Held completions of teachers whose plan lies in the subtree, oldest first."""
    stmt = (
        select(CompletionAttempt, Plan)
        .join(
            Plan,
            and_(
                Plan.teacher_id == CompletionAttempt.teacher_id,
                Plan.project_id == CompletionAttempt.project_id,
            ),
        )
        .where(CompletionAttempt.status == "held", _in_scope(org_path))
    )
    if project_id is not None:
        stmt = stmt.where(CompletionAttempt.project_id == project_id)
    if after is not None:
        at, last = after
        stmt = stmt.where(
            or_(
                CompletionAttempt.created_at > at,
                and_(CompletionAttempt.created_at == at, CompletionAttempt.id > last),
            )
        )
    stmt = stmt.order_by(CompletionAttempt.created_at, CompletionAttempt.id).limit(limit)
    return await pairs(reader, stmt, CompletionAttempt, Plan)


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


_LIVE_CREDITS = Prepared(
    select(Completion.category, Completion.hours, Completion.topic_id, Completion.course_code)
    .where(
        Completion.teacher_id == bindparam("teacher_id"),
        Completion.project_id == bindparam("project_id"),
        Completion.revoked_at.is_(None),
    )
    .order_by(Completion.completed_at, Completion.id)
)


async def live_credits(db: Db, *, teacher_id: uuid.UUID, project_id: uuid.UUID) -> list[Credited]:
    """The teacher's live completions in the project, oldest first (review caps count the
    first ones)."""
    found = await prepared_tuples(db, _LIVE_CREDITS, teacher_id=teacher_id, project_id=project_id)
    return [Credited(*row) for row in found]


async def completed_courses(
    reader: Reader, *, teacher_id: uuid.UUID, project_id: uuid.UUID
) -> set[uuid.UUID]:
    """The catalogue courses the teacher has a live completion of in the project."""
    stmt = select(Completion.course_id).where(
        Completion.teacher_id == teacher_id,
        Completion.project_id == project_id,
        Completion.revoked_at.is_(None),
        Completion.course_id.is_not(None),
    )
    return set(await reader.scalars(stmt))


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
