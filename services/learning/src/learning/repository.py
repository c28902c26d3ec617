"""All SQL of the learning service."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime
from typing import Any, cast

from sqlalchemy import Row, Table, bindparam, case, func, select, text, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from learning.models import Plan
from yanxiu.kit.reads import Db, Prepared, rows

_STATE = (
    Plan.teacher_id,
    Plan.project_id,
    Plan.project_year,
    Plan.status,
    Plan.province_id,
    Plan.city_id,
    Plan.county_id,
    Plan.school_id,
)


async def lock_plans(
    session: AsyncSession, pairs: Sequence[tuple[uuid.UUID, uuid.UUID]]
) -> list[Row[Any]]:
    """The existing plans of these (teacher, project) pairs, locked in key order until the
    transaction ends (what a change is compared with): status, project year and place."""
    if not pairs:
        return []
    keys = sorted(set(pairs))
    rows = await session.execute(
        text(
            "SELECT p.teacher_id, p.project_id, p.project_year, p.status, p.province_id, "
            "p.city_id, p.county_id, p.school_id "
            "FROM unnest(CAST(:t AS uuid[]), CAST(:p AS uuid[])) AS u(t, p) "
            "JOIN learning.plans p ON p.teacher_id = u.t AND p.project_id = u.p "
            "ORDER BY p.teacher_id, p.project_id FOR UPDATE OF p"
        ),
        {"t": [t for t, _ in keys], "p": [p for _, p in keys]},
    )
    return list(rows.all())


async def upsert_plans(session: AsyncSession, rows: list[dict[str, Any]]) -> list[Row[Any]]:
    """One plan per teacher and project; a re-registration re-activates a withdrawn one, but
    a departed plan stays departed (enrollment registers no departed teacher, so such a
    registration is a re-sent one, e.g. by a resync: only a take-in resumes the plan). Rows
    must not repeat a (teacher, project) pair. Executemany form: compiled once, batched by
    the driver. Returns each plan as it stands after (status, project year and place)."""
    if not rows:
        return []
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
    result = await session.execute(
        stmt.on_conflict_do_update(
            index_elements=[table.c.teacher_id, table.c.project_id], set_=keep
        ).returning(*(table.c[c.key] for c in _STATE)),
        rows,
    )
    return list(result.all())


async def set_plan_status(
    session: AsyncSession, *, teacher_id: uuid.UUID, project_id: uuid.UUID, status: str
) -> list[Any]:
    """Returns the plan as it stands after, if its status changed (none when it had it)."""
    result = await session.execute(
        update(Plan)
        .where(Plan.teacher_id == teacher_id, Plan.project_id == project_id, Plan.status != status)
        .values(status=status)
        .returning(*_STATE)
    )
    return list(result.all())


async def start_plans(
    session: AsyncSession, starts: Sequence[tuple[uuid.UUID, uuid.UUID, datetime]]
) -> list[Row[Any]]:
    """Set `started_at` of the plans of these (teacher, project, at), pairs not repeated, that
    have none yet; returns those set now, with their place and `started_at`. (A heartbeat
    batch's plans are those of teachers whose viewer rows it holds locked, so two batches
    never wait on each other's plans here.)"""
    result = await session.execute(
        _START_PLANS,
        {
            "t": [t for t, _, _ in starts],
            "p": [p for _, p, _ in starts],
            "at": [at for _, _, at in starts],
        },
    )
    return list(result.all())


_START_PLANS = text(
    "UPDATE learning.plans p SET started_at = u.at "
    "FROM unnest(CAST(:t AS uuid[]), CAST(:p AS uuid[]), CAST(:at AS timestamptz[])) "
    "AS u(t, p, at) "
    "WHERE p.teacher_id = u.t AND p.project_id = u.p AND p.started_at IS NULL "
    "RETURNING p.teacher_id, p.project_id, p.project_year, p.province_id, p.city_id, "
    "p.county_id, p.school_id, p.started_at"
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
