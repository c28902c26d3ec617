"""SQL of IT 2.0 certification: roles, certifications (locked while they change), attempts,
assessments, and the scoped lists."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import Select, select, tuple_
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from learning.abilities.models import (
    Certification,
    CertificationAssessment,
    CertificationAttempt,
    PlanRole,
)
from learning.models import Plan
from learning.reading import pairs
from yanxiu.kit.reads import Db, Reader, by_key, tuples

# The plan columns an org path names, province first.
ORG_COLUMNS = (Plan.province_id, Plan.city_id, Plan.county_id, Plan.school_id)


async def role_of(db: Db, plan_id: uuid.UUID) -> PlanRole | None:
    return await by_key(db, PlanRole, plan_id)


async def put_role(
    session: AsyncSession, *, plan_id: uuid.UUID, role: str, assigned_by: str
) -> PlanRole:
    values = {"role": role, "assigned_by": assigned_by}
    stmt = insert(PlanRole).values(plan_id=plan_id, **values)
    await session.execute(
        stmt.on_conflict_do_update(index_elements=[PlanRole.plan_id], set_=values)
    )
    row = await session.get(PlanRole, plan_id, populate_existing=True)
    assert row is not None
    return row


async def roles_of(db: Db, plan_ids: Sequence[uuid.UUID]) -> dict[uuid.UUID, str]:
    stmt = select(PlanRole.plan_id, PlanRole.role).where(PlanRole.plan_id.in_(plan_ids))
    return {plan_id: role for plan_id, role in await tuples(db, stmt)}


async def passed_of(
    db: Db, plan_ids: Sequence[uuid.UUID]
) -> dict[uuid.UUID, list[tuple[str, str]]]:
    """The passed items of these plans: plan → [(kind, code)]."""
    stmt = select(Certification.plan_id, Certification.item_kind, Certification.item_code).where(
        Certification.plan_id.in_(plan_ids), Certification.status == "passed"
    )
    found: dict[uuid.UUID, list[tuple[str, str]]] = {}
    for plan_id, kind, code in await tuples(db, stmt):
        found.setdefault(plan_id, []).append((kind, code))
    return found


async def items_of(reader: Reader, plan_id: uuid.UUID) -> list[Certification]:
    return await reader.all(
        Certification, select(Certification).where(Certification.plan_id == plan_id)
    )


async def lock_item(
    session: AsyncSession, *, plan_id: uuid.UUID, kind: str, code: str
) -> Certification | None:
    stmt = (
        select(Certification)
        .where(
            Certification.plan_id == plan_id,
            Certification.item_kind == kind,
            Certification.item_code == code,
        )
        .with_for_update()
        .execution_options(populate_existing=True)
    )
    return (await session.scalars(stmt)).one_or_none()


async def insert_item(session: AsyncSession, values: dict[str, Any]) -> bool:
    """False when a concurrent first submission of the same item got there first (its row is
    then readable, and lockable, once that transaction ends)."""
    stmt = (
        insert(Certification)
        .values(**values)
        .on_conflict_do_nothing(
            index_elements=[Certification.plan_id, Certification.item_kind, Certification.item_code]
        )
        .returning(Certification.id)
    )
    return (await session.execute(stmt)).scalar_one_or_none() is not None


async def add_attempt(
    session: AsyncSession,
    *,
    certification_id: uuid.UUID,
    attempt: int,
    description: str,
    materials: list[dict[str, Any]],
    submitted_at: datetime,
) -> None:
    session.add(
        CertificationAttempt(
            certification_id=certification_id,
            attempt=attempt,
            description=description,
            materials=materials,
            submitted_at=submitted_at,
        )
    )
    await session.flush()


async def add_assessment(
    session: AsyncSession,
    *,
    certification_id: uuid.UUID,
    attempt: int,
    outcome: str,
    comment: str | None,
    assessed_by: str,
    assessed_at: datetime,
) -> None:
    session.add(
        CertificationAssessment(
            certification_id=certification_id,
            attempt=attempt,
            outcome=outcome,
            comment=comment,
            assessed_by=assessed_by,
            assessed_at=assessed_at,
        )
    )
    await session.flush()


def _with_plan(certification_id: uuid.UUID) -> Select[Certification, Plan]:
    return (
        select(Certification, Plan)
        .join(Plan, Plan.id == Certification.plan_id)
        .where(Certification.id == certification_id)
    )


async def lock_with_plan(
    session: AsyncSession, certification_id: uuid.UUID
) -> tuple[Certification, Plan] | None:
    stmt = (
        _with_plan(certification_id)
        .with_for_update(of=Certification)
        .execution_options(populate_existing=True)
    )
    row = (await session.execute(stmt)).one_or_none()
    return (row[0], row[1]) if row else None


async def with_plan(
    reader: Reader, certification_id: uuid.UUID
) -> tuple[Certification, Plan] | None:
    found = await pairs(reader, _with_plan(certification_id), Certification, Plan)
    return found[0] if found else None


async def history(
    reader: Reader, certification_id: uuid.UUID
) -> tuple[list[CertificationAttempt], list[CertificationAssessment]]:
    attempts = await reader.all(
        CertificationAttempt,
        select(CertificationAttempt)
        .where(CertificationAttempt.certification_id == certification_id)
        .order_by(CertificationAttempt.attempt),
    )
    assessments = await reader.all(
        CertificationAssessment,
        select(CertificationAssessment)
        .where(CertificationAssessment.certification_id == certification_id)
        .order_by(CertificationAssessment.id),
    )
    return attempts, assessments


def scoped(
    *,
    project_id: uuid.UUID,
    org_path: Sequence[str] | None = None,
    teacher_id: uuid.UUID | None = None,
) -> Select[Certification, Plan]:
    """Certifications of a project, of plans whose stored org path lies under `org_path`
    and/or of one teacher."""
    stmt: Select[Certification, Plan] = (
        select(Certification, Plan)
        .join(Plan, Plan.id == Certification.plan_id)
        .where(Plan.project_id == project_id)
    )
    for column, value in zip(ORG_COLUMNS, org_path or (), strict=False):
        stmt = stmt.where(column == value)
    if teacher_id is not None:
        stmt = stmt.where(Plan.teacher_id == teacher_id)
    return stmt


async def page(
    reader: Reader,
    stmt: Select[Certification, Plan],
    *,
    status: str | None,
    item_kind: str | None,
    after: tuple[datetime, uuid.UUID] | None,
    limit: int,
) -> list[tuple[Certification, Plan]]:
    """Oldest submission first (the school's queue), keyset-paginated on (submitted_at, id)."""
    if status is not None:
        stmt = stmt.where(Certification.status == status)
    if item_kind is not None:
        stmt = stmt.where(Certification.item_kind == item_kind)
    if after is not None:
        stmt = stmt.where(tuple_(Certification.submitted_at, Certification.id) > after)
    stmt = stmt.order_by(Certification.submitted_at, Certification.id).limit(limit + 1)
    return await pairs(reader, stmt, Certification, Plan)
