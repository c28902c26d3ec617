"""SQL for bulk import and export: set-based statements, one per batch, never one per row."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import Row, select, text
from sqlalchemy.ext.asyncio import AsyncSession

from enrollment.models import Org, Registration, Teacher

CHUNK = 10_000

_INSERT_TEACHERS = text(
    "INSERT INTO enrollment.teachers (id, name, id_number_cipher, id_number_index, gender, "
    "birth_date, phone_cipher, phone_index, stage, subject, is_rural, status, verified, version, "
    "province_id, city_id, county_id, school_id) "
    "SELECT u.id, u.name, u.idc, u.idx, u.gender, u.born, u.phc, u.phx, u.stage, u.subject, "
    "u.rural, 'active', false, 1, u.prov, u.city, u.county, u.school FROM unnest("
    "CAST(:id AS uuid[]), CAST(:name AS text[]), CAST(:idc AS bytea[]), CAST(:idx AS text[]), "
    "CAST(:gender AS text[]), CAST(:born AS date[]), CAST(:phc AS bytea[]), "
    "CAST(:phx AS text[]), CAST(:stage AS text[]), CAST(:subject AS text[]), "
    "CAST(:rural AS boolean[]), CAST(:prov AS text[]), CAST(:city AS text[]), "
    "CAST(:county AS text[]), CAST(:school AS text[])) AS u(id, name, idc, idx, gender, born, "
    "phc, phx, stage, subject, rural, prov, city, county, school)"
)
_INSERT_CHANGES = text(
    "INSERT INTO enrollment.teacher_changes (teacher_id, action, changed_by, changed_by_role, "
    "changed_by_name, after) SELECT u.id, :action, :actor, :role, :actor_name, "
    "CAST(u.after AS jsonb) "
    "FROM unnest(CAST(:id AS uuid[]), CAST(:after AS text[])) AS u(id, after)"
)
_EXISTING_INDEXES = text(
    "SELECT t.id_number_index FROM enrollment.teachers t "
    "JOIN unnest(CAST(:idx AS text[])) AS u(idx) ON t.id_number_index = u.idx"
)

_SCOPE_COLUMNS = ("province_id", "city_id", "county_id", "school_id")


async def schools_matching(session: AsyncSession, values: Sequence[str]) -> list[Org]:
    """Schools whose id or exact name is one of `values`."""
    stmt = select(Org).where(Org.level == "school", (Org.id.in_(values)) | (Org.name.in_(values)))
    return list((await session.scalars(stmt)).all())


async def existing_id_indexes(session: AsyncSession, indexes: Sequence[str]) -> set[str]:
    found: set[str] = set()
    for i in range(0, len(indexes), CHUNK):
        rows = await session.execute(_EXISTING_INDEXES, {"idx": list(indexes[i : i + CHUNK])})
        found.update(r[0] for r in rows)
    return found


async def insert_teachers(session: AsyncSession, columns: dict[str, list[Any]]) -> None:
    """One INSERT … SELECT FROM unnest(arrays) per chunk of rows."""
    n = len(columns["id"])
    for i in range(0, n, CHUNK):
        await session.execute(_INSERT_TEACHERS, {k: v[i : i + CHUNK] for k, v in columns.items()})


async def insert_changes(
    session: AsyncSession,
    *,
    teacher_ids: list[uuid.UUID],
    after: list[str],
    action: str,
    actor: str,
    role: str,
    actor_name: str | None,
) -> None:
    for i in range(0, len(teacher_ids), CHUNK):
        await session.execute(
            _INSERT_CHANGES,
            {
                "id": teacher_ids[i : i + CHUNK],
                "after": after[i : i + CHUNK],
                "action": action,
                "actor": actor,
                "role": role,
                "actor_name": actor_name,
            },
        )


def _scoped(stmt: Any, model: Any, path: Sequence[str]) -> Any:
    for column, value in zip(_SCOPE_COLUMNS, path, strict=False):
        stmt = stmt.where(getattr(model, column) == value) if hasattr(model, column) else stmt
    return stmt


async def teachers_under(
    session: AsyncSession, path: Sequence[str]
) -> AsyncIterator[Row[Teacher, str]]:
    """A unit's teachers (the subtree under `path`) with their school's name, in a stable order."""
    stmt = (
        select(Teacher, Org.name)
        .join(Org, Org.id == Teacher.school_id)
        .order_by(Teacher.school_id, Teacher.id)
        .execution_options(yield_per=2000)
    )
    result = await session.stream(_scoped(stmt, Teacher, path))
    async for row in result:
        yield row


async def registrations_under(
    session: AsyncSession, *, project_id: uuid.UUID, path: Sequence[str]
) -> AsyncIterator[Row[str, str, str, str, datetime]]:
    """A project's registrations in the subtree under `path`: school id and name, teacher name,
    subject, registered_at."""
    stmt = (
        select(
            Registration.school_id,
            Org.name,
            Teacher.name,
            Registration.subject,
            Registration.registered_at,
        )
        .join(Teacher, Teacher.id == Registration.teacher_id)
        .join(Org, Org.id == Registration.school_id)
        .where(Registration.project_id == project_id)
        .order_by(Registration.school_id, Registration.registered_at, Registration.id)
        .execution_options(yield_per=2000)
    )
    # Registration carries city, county and school; the province is the project's.
    stmt = _scoped(stmt, Registration, path)
    if path:
        stmt = stmt.where(Teacher.province_id == path[0])
    result = await session.stream(stmt)
    async for row in result:
        yield row
