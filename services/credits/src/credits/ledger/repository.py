"""All SQL of the ledger. Writes are set-based: one statement per step, whatever the batch."""

from __future__ import annotations

import random
import uuid
from collections.abc import Sequence
from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import func, select, text
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from credits.ledger.models import (
    ORG_TOTAL_SLOTS,
    LedgerEntry,
    LedgerTotal,
    Teacher,
    TeacherYear,
)
from yanxiu.kit.reads import Db, Reader, by_key, rows, tuples

_INSERT = text(
    """
    INSERT INTO credits.ledger_entries (id, teacher_id, year, region, category, hours,
        source_kind, source_id, description, reason, actor, province_id, city_id, county_id,
        school_id, occurred_at, project_id, course_key)
    SELECT * FROM unnest(CAST(:id AS uuid[]), CAST(:teacher_id AS uuid[]), CAST(:year AS int[]),
        CAST(:region AS text[]), CAST(:category AS text[]), CAST(:hours AS numeric[]),
        CAST(:source_kind AS text[]), CAST(:source_id AS text[]), CAST(:description AS text[]),
        CAST(:reason AS text[]), CAST(:actor AS text[]), CAST(:province_id AS text[]),
        CAST(:city_id AS text[]), CAST(:county_id AS text[]), CAST(:school_id AS text[]),
        CAST(:occurred_at AS timestamptz[]), CAST(:project_id AS uuid[]),
        CAST(:course_key AS text[]))
    ON CONFLICT (teacher_id, source_kind, source_id) DO NOTHING
    RETURNING id
    """
)
_ADD_TOTALS = text(
    """
    INSERT INTO credits.ledger_totals AS lt (teacher_id, year, category, region, hours)
    SELECT * FROM unnest(CAST(:teacher_id AS uuid[]), CAST(:year AS int[]),
        CAST(:category AS text[]), CAST(:region AS text[]), CAST(:hours AS numeric[]))
    ON CONFLICT (teacher_id, year, category)
    DO UPDATE SET hours = lt.hours + EXCLUDED.hours
    RETURNING lt.teacher_id, lt.year, lt.category, lt.hours
    """
)
# Each teacher-year adds the batch's recorded and counted hours. A new year is placed where the
# batch booked it (the teacher's stored place); an existing one keeps its place, which only a
# transfer moves (`follow.py`): an entry never drags a year back to where an event said the
# teacher was. RETURNING gives that place, where the org totals move. `complete` is written on
# insert and left as it was otherwise (RETURNING then gives the flag before the batch; the
# service flips it where the new hours say so).
_ADD_TO_YEARS = text(
    """
    INSERT INTO credits.teacher_years AS ty (teacher_id, year, region, province_id, city_id,
        county_id, school_id, recorded_hours, counted_hours, complete, updated_at)
    SELECT *, now() FROM unnest(CAST(:teacher_id AS uuid[]), CAST(:year AS int[]),
        CAST(:region AS text[]), CAST(:province_id AS text[]), CAST(:city_id AS text[]),
        CAST(:county_id AS text[]), CAST(:school_id AS text[]), CAST(:recorded AS numeric[]),
        CAST(:counted AS numeric[]), CAST(:complete AS boolean[]))
    ON CONFLICT (teacher_id, year) DO UPDATE SET region = EXCLUDED.region,
        recorded_hours = ty.recorded_hours + EXCLUDED.recorded_hours,
        counted_hours = ty.counted_hours + EXCLUDED.counted_hours, updated_at = now()
    RETURNING ty.teacher_id, ty.year, (ty.xmax = 0) AS inserted, ty.counted_hours, ty.complete,
        ty.province_id, ty.city_id, ty.county_id, ty.school_id
    """
)
_SET_COMPLETE = text(
    """
    UPDATE credits.teacher_years ty SET complete = f.complete
    FROM unnest(CAST(:teacher_id AS uuid[]), CAST(:year AS int[]),
        CAST(:complete AS boolean[])) AS f(teacher_id, year, complete)
    WHERE ty.teacher_id = f.teacher_id AND ty.year = f.year
    """
)
# One slot of each org's totals (`:slot`), taken in key order so that two transactions never
# deadlock on them.
_ADD_ORG_TOTALS = text(
    """
    INSERT INTO credits.org_year_totals AS o (year, level, org_id, slot, parent_id,
        with_credit, complete, counted_hours)
    SELECT t.year, t.level, t.org_id, :slot, t.parent_id, t.with_credit, t.complete, t.hours
    FROM unnest(CAST(:year AS int[]), CAST(:level AS text[]), CAST(:org_id AS text[]),
        CAST(:parent_id AS text[]), CAST(:with_credit AS int[]), CAST(:complete AS int[]),
        CAST(:hours AS numeric[]))
        AS t(year, level, org_id, parent_id, with_credit, complete, hours)
    ORDER BY t.year, t.level, t.org_id
    ON CONFLICT (year, level, org_id, slot) DO UPDATE SET
        with_credit = o.with_credit + EXCLUDED.with_credit,
        complete = o.complete + EXCLUDED.complete,
        counted_hours = o.counted_hours + EXCLUDED.counted_hours
    """
)


async def taken_courses(
    session: AsyncSession, slots: list[tuple[uuid.UUID, uuid.UUID, str]]
) -> set[tuple[uuid.UUID, uuid.UUID, str]]:
    """Which (teacher, project, course_key) already have a live entry (`course_slots`)."""
    if not slots:
        return set()
    rows = await session.execute(
        text(
            "SELECT s.teacher_id, s.project_id, s.course_key FROM credits.course_slots s "
            "JOIN unnest(CAST(:t AS uuid[]), CAST(:p AS uuid[]), CAST(:k AS text[])) "
            "AS u(t, p, k) ON s.teacher_id = u.t AND s.project_id = u.p AND s.course_key = u.k"
        ),
        {"t": [t for t, _, _ in slots], "p": [p for _, p, _ in slots], "k": [k for *_, k in slots]},
    )
    return {(r[0], r[1], r[2]) for r in rows.all()}


async def insert_entries(session: AsyncSession, cols: dict[str, list[Any]]) -> list[uuid.UUID]:
    """The ids actually inserted (a source recorded before is skipped)."""
    return list((await session.execute(_INSERT, cols)).scalars().all())


async def add_totals(session: AsyncSession, cols: dict[str, list[Any]]) -> list[Any]:
    """Adds to the category totals; returns (teacher_id, year, category, hours) after."""
    return list((await session.execute(_ADD_TOTALS, cols)).all())


async def add_to_teacher_years(session: AsyncSession, cols: dict[str, list[Any]]) -> list[Any]:
    """(teacher_id, year, inserted, counted_hours, complete before, province_id, city_id,
    county_id, school_id: the year's place) of each teacher-year."""
    return list((await session.execute(_ADD_TO_YEARS, cols)).all())


async def set_complete(session: AsyncSession, flips: list[tuple[uuid.UUID, int, bool]]) -> None:
    if flips:
        teacher_id, year, complete = (list(x) for x in zip(*flips, strict=True))
        await session.execute(
            _SET_COMPLETE, {"teacher_id": teacher_id, "year": year, "complete": complete}
        )


async def add_org_totals(
    session: AsyncSession, totals: dict[tuple[int, str, str], list[Any]]
) -> None:
    if not totals:
        return
    keys, rows = list(totals), list(totals.values())
    await session.execute(
        _ADD_ORG_TOTALS,
        {
            "slot": random.randrange(ORG_TOTAL_SLOTS),
            "year": [k[0] for k in keys],
            "level": [k[1] for k in keys],
            "org_id": [k[2] for k in keys],
            "parent_id": [r[0] for r in rows],
            "with_credit": [r[1] for r in rows],
            "complete": [r[2] for r in rows],
            "hours": [r[3] for r in rows],
        },
    )


async def lock_teachers(session: AsyncSession, teacher_ids: list[uuid.UUID]) -> None:
    """Serialise concurrent batches touching one teacher (sorted: no deadlock)."""
    await session.execute(
        text(
            "SELECT pg_advisory_xact_lock(hashtextextended('credits.ledger:' || t::text, 0)) "
            "FROM unnest(CAST(:t AS uuid[])) AS t ORDER BY t"
        ),
        {"t": sorted(set(teacher_ids))},
    )


async def entry(session: AsyncSession, entry_id: uuid.UUID) -> LedgerEntry | None:
    return await session.get(LedgerEntry, entry_id)


async def entry_by_source(
    session: AsyncSession, *, teacher_id: uuid.UUID, source_kind: str, source_id: str
) -> LedgerEntry | None:
    return await session.scalar(
        select(LedgerEntry).where(
            LedgerEntry.teacher_id == teacher_id,
            LedgerEntry.source_kind == source_kind,
            LedgerEntry.source_id == source_id,
        )
    )


async def entries_by_source(
    session: AsyncSession, *, source_kind: str, source_ids: list[str]
) -> list[LedgerEntry]:
    stmt = select(LedgerEntry).where(
        LedgerEntry.source_kind == source_kind, LedgerEntry.source_id.in_(source_ids)
    )
    return list((await session.scalars(stmt)).all())


async def entries(
    reader: Reader,
    *,
    teacher_id: uuid.UUID,
    year: int | None,
    after: tuple[datetime, uuid.UUID] | None,
    limit: int,
) -> list[LedgerEntry]:
    stmt = select(LedgerEntry).where(LedgerEntry.teacher_id == teacher_id)
    if year is not None:
        stmt = stmt.where(LedgerEntry.year == year)
    if after is not None:
        stmt = stmt.where(
            (LedgerEntry.recorded_at, LedgerEntry.id) > (after[0], after[1])  # type: ignore[operator]
        )
    stmt = stmt.order_by(LedgerEntry.recorded_at, LedgerEntry.id).limit(limit)
    return await reader.all(LedgerEntry, stmt)


async def totals(
    db: Db, *, teacher_id: uuid.UUID, years: Sequence[int] | None = None
) -> list[LedgerTotal]:
    """A teacher's totals of `years` (every year, if None)."""
    stmt = select(LedgerTotal).where(LedgerTotal.teacher_id == teacher_id)
    if years is not None:
        stmt = stmt.where(LedgerTotal.year.in_(years))
    return await rows(db, LedgerTotal, stmt)


async def totals_as_of(
    db: Db,
    *,
    teacher_id: uuid.UUID,
    years: Sequence[int] | None,
    as_of: datetime,
) -> list[tuple[int, str, str, Decimal]]:
    """(year, category, region, hours) from the entries recorded up to `as_of`."""
    stmt = (
        select(
            LedgerEntry.year, LedgerEntry.category, LedgerEntry.region, func.sum(LedgerEntry.hours)
        )
        .where(LedgerEntry.teacher_id == teacher_id, LedgerEntry.recorded_at <= as_of)
        .group_by(LedgerEntry.year, LedgerEntry.category, LedgerEntry.region)
    )
    if years is not None:
        stmt = stmt.where(LedgerEntry.year.in_(years))
    return [(y, c, r, Decimal(h)) for y, c, r, h in await tuples(db, stmt)]


async def teacher_years(reader: Reader, *, teacher_id: uuid.UUID) -> list[TeacherYear]:
    stmt = (
        select(TeacherYear).where(TeacherYear.teacher_id == teacher_id).order_by(TeacherYear.year)
    )
    return await reader.all(TeacherYear, stmt)


async def teacher(db: Db, teacher_id: uuid.UUID) -> Teacher | None:
    return await by_key(db, Teacher, teacher_id)


async def places(
    session: AsyncSession, teacher_ids: list[uuid.UUID]
) -> dict[uuid.UUID, tuple[str, str, str, str]]:
    """The stored place (province, city, county, school) of each teacher the read model knows,
    as the database has it now (columns, not objects a session may hold stale)."""
    if not teacher_ids:
        return {}
    rows = await session.execute(
        select(
            Teacher.teacher_id,
            Teacher.province_id,
            Teacher.city_id,
            Teacher.county_id,
            Teacher.school_id,
        ).where(Teacher.teacher_id.in_(teacher_ids))
    )
    return {r[0]: (r[1], r[2], r[3], r[4]) for r in rows.all()}


async def teachers(session: AsyncSession, teacher_ids: list[uuid.UUID]) -> dict[uuid.UUID, Teacher]:
    if not teacher_ids:
        return {}
    found = await session.scalars(select(Teacher).where(Teacher.teacher_id.in_(teacher_ids)))
    return {t.teacher_id: t for t in found.all()}


async def upsert_teachers(session: AsyncSession, rows: list[dict[str, Any]]) -> None:
    if not rows:
        return
    stmt = insert(Teacher)
    await session.execute(
        stmt.on_conflict_do_update(
            index_elements=[Teacher.teacher_id],
            set_={k: stmt.excluded[k] for k in rows[0] if k != "teacher_id"}
            | {"updated_at": func.now()},
        ),
        rows,
    )
