"""All SQL of the learning service."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from typing import Any, cast

from sqlalchemy import Table, bindparam, case, func, select, text, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from learning.models import Plan
from yanxiu.kit.reads import Db, Prepared, rows


async def upsert_plans(session: AsyncSession, rows: list[dict[str, Any]]) -> None:
    """One plan per teacher and project; a re-registration re-activates a withdrawn one, but
    a departed plan stays departed (enrollment registers no departed teacher, so such a
    registration is a re-sent one, e.g. by a resync: only a take-in resumes the plan). Rows
    must not repeat a (teacher, project) pair. Executemany form: compiled once, batched by
    the driver."""
    if not rows:
        return
    table = cast(Table, Plan.__table__)
    stmt = insert(table)
    keep: dict[str, Any] = {
        k: stmt.excluded[k] for k in rows[0] if k not in ("id", "teacher_id", "project_id")
    }
    if "status" in keep:
        keep["status"] = case(
            (table.c.status == "departed", table.c.status), else_=stmt.excluded.status
        )
    keep["updated_at"] = func.now()
    await session.execute(
        stmt.on_conflict_do_update(
            index_elements=[table.c.teacher_id, table.c.project_id], set_=keep
        ),
        rows,
    )


async def set_plan_status(
    session: AsyncSession, *, teacher_id: uuid.UUID, project_id: uuid.UUID, status: str
) -> None:
    await session.execute(
        update(Plan)
        .where(Plan.teacher_id == teacher_id, Plan.project_id == project_id)
        .values(status=status)
    )


_PLANS_OF = Prepared(
    select(Plan)
    .where(Plan.teacher_id == bindparam("teacher_id"))
    .order_by(Plan.project_year.desc())
)
# One plan per (teacher, project): the pair is unique.
_PLAN_OF = Prepared(
    select(Plan).where(
        Plan.teacher_id == bindparam("teacher_id"), Plan.project_id == bindparam("project_id")
    )
)


async def plans_of(db: Db, teacher_id: uuid.UUID) -> list[Plan]:
    return await rows(db, Plan, _PLANS_OF, teacher_id=teacher_id)


async def plan_of(db: Db, *, teacher_id: uuid.UUID, project_id: uuid.UUID) -> Plan | None:
    found = await rows(db, Plan, _PLAN_OF, teacher_id=teacher_id, project_id=project_id)
    return found[0] if found else None


async def plans_in(
    session: AsyncSession, *, project_id: uuid.UUID, teacher_ids: list[uuid.UUID]
) -> dict[uuid.UUID, Plan]:
    """The project's plans of these teachers, by teacher."""
    stmt = select(Plan).where(Plan.project_id == project_id, Plan.teacher_id.in_(teacher_ids))
    return {p.teacher_id: p for p in (await session.scalars(stmt)).all()}


async def pairs_with_status(
    session: AsyncSession, pairs: Sequence[tuple[uuid.UUID, uuid.UUID]], *, status: str
) -> set[tuple[uuid.UUID, uuid.UUID]]:
    """The (teacher, project) pairs whose plan has this status (one statement, arrays)."""
    rows = await session.execute(
        text(
            "SELECT p.teacher_id, p.project_id "
            "FROM unnest(CAST(:t AS uuid[]), CAST(:p AS uuid[])) AS u(t, p) "
            "JOIN learning.plans p ON p.teacher_id = u.t AND p.project_id = u.p "
            "WHERE p.status = :status"
        ),
        {"t": [t for t, _ in pairs], "p": [p for _, p in pairs], "status": status},
    )
    return {(r.teacher_id, r.project_id) for r in rows}
