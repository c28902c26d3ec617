"""All SQL of the ledger. Writes are set-based: one statement per step, whatever the batch."""

from __future__ import annotations

import random
import uuid
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

_INSERT = text(
    """
    INSERT INTO credits.ledger_entries (id, teacher_id, year, region, category, hours,
        source_kind, source_id, description, reason, actor, province_id, city_id, county_id,
        school_id, occurred_at)
    SELECT * FROM unnest(CAST(:id AS uuid[]), CAST(:teacher_id AS uuid[]), CAST(:year AS int[]),
        CAST(:region AS text[]), CAST(:category AS text[]), CAST(:hours AS numeric[]),
        CAST(:source_kind AS text[]), CAST(:source_id AS text[]), CAST(:description AS text[]),
        CAST(:reason AS text[]), CAST(:actor AS text[]), CAST(:province_id AS text[]),
        CAST(:city_id AS text[]), CAST(:county_id AS text[]), CAST(:school_id AS text[]),
        CAST(:occurred_at AS timestamptz[]))
    ON CONFLICT (teacher_id, source_kind, source_id) DO NOTHING
    RETURNING teacher_id, year, region, category, hours, province_id, city_id, county_id,
        school_id
    """
)
_ADD_TOTALS = text(
    """
    INSERT INTO credits.ledger_totals (teacher_id, year, category, region, hours)
    SELECT * FROM unnest(CAST(:teacher_id AS uuid[]), CAST(:year AS int[]),
        CAST(:category AS text[]), CAST(:region AS text[]), CAST(:hours AS numeric[]))
    ON CONFLICT (teacher_id, year, category)
    DO UPDATE SET hours = credits.ledger_totals.hours + EXCLUDED.hours
    """
)
# Recompute touched teacher-years from their category sums: counted = recorded up to each
# category's annual cap; complete = counted reaches the region's yearly requirement. The
# change of each teacher-year moves its school's, county's and city's totals in the same
# statement (the old values are read from the statement's snapshot), in one slot of each org's
# totals (`:slot`), taken in key order so that two transactions never deadlock on them.
_TEACHER_YEARS = text(
    """
    WITH touched AS (
        SELECT * FROM unnest(CAST(:teacher_id AS uuid[]), CAST(:year AS int[]),
            CAST(:province_id AS text[]), CAST(:city_id AS text[]), CAST(:county_id AS text[]),
            CAST(:school_id AS text[]))
            AS t(teacher_id, year, province_id, city_id, county_id, school_id)),
    caps AS (
        SELECT * FROM unnest(CAST(:cap_region AS text[]), CAST(:cap_category AS text[]),
            CAST(:cap AS numeric[])) AS c(region, category, cap)),
    required AS (
        SELECT * FROM unnest(CAST(:req_region AS text[]), CAST(:req AS numeric[]))
            AS r(region, required)),
    sums AS (
        SELECT lt.teacher_id, lt.year, max(lt.region) AS region, sum(lt.hours) AS recorded,
            sum(GREATEST(LEAST(lt.hours, COALESCE(c.cap, lt.hours)), 0)) AS counted
        FROM credits.ledger_totals lt
        JOIN touched t ON t.teacher_id = lt.teacher_id AND t.year = lt.year
        LEFT JOIN caps c ON c.region = lt.region AND c.category = lt.category
        GROUP BY lt.teacher_id, lt.year),
    old AS (
        SELECT ty.teacher_id, ty.year, ty.counted_hours, ty.complete
        FROM credits.teacher_years ty
        JOIN touched t ON t.teacher_id = ty.teacher_id AND t.year = ty.year),
    up AS (
        INSERT INTO credits.teacher_years AS ty (teacher_id, year, region, province_id, city_id,
            county_id, school_id, recorded_hours, counted_hours, complete, updated_at)
        SELECT s.teacher_id, s.year, s.region, t.province_id, t.city_id, t.county_id, t.school_id,
            s.recorded, s.counted, s.counted >= COALESCE(r.required, 0), now()
        FROM sums s
        JOIN touched t ON t.teacher_id = s.teacher_id AND t.year = s.year
        LEFT JOIN required r ON r.region = s.region
        ON CONFLICT (teacher_id, year) DO UPDATE SET region = EXCLUDED.region,
            province_id = EXCLUDED.province_id, city_id = EXCLUDED.city_id,
            county_id = EXCLUDED.county_id, school_id = EXCLUDED.school_id,
            recorded_hours = EXCLUDED.recorded_hours, counted_hours = EXCLUDED.counted_hours,
            complete = EXCLUDED.complete, updated_at = now()
        RETURNING ty.teacher_id, ty.year, ty.province_id, ty.city_id, ty.county_id,
            ty.school_id, ty.counted_hours, ty.complete),
    delta AS (
        SELECT up.year, up.province_id, up.city_id, up.county_id, up.school_id,
            CASE WHEN old.teacher_id IS NULL THEN 1 ELSE 0 END AS with_credit,
            up.complete::int - COALESCE(old.complete::int, 0) AS complete,
            up.counted_hours - COALESCE(old.counted_hours, 0) AS hours
        FROM up LEFT JOIN old ON old.teacher_id = up.teacher_id AND old.year = up.year),
    per_org AS (
        SELECT year, 'city' AS level, city_id AS org_id, province_id AS parent_id,
            with_credit, complete, hours FROM delta
        UNION ALL SELECT year, 'county', county_id, city_id, with_credit, complete, hours
            FROM delta
        UNION ALL SELECT year, 'school', school_id, county_id, with_credit, complete, hours
            FROM delta)
    INSERT INTO credits.org_year_totals AS o (year, level, org_id, slot, parent_id,
        with_credit, complete, counted_hours)
    SELECT year, level, org_id, :slot, max(parent_id), sum(with_credit), sum(complete),
        sum(hours)
    FROM per_org GROUP BY year, level, org_id ORDER BY year, level, org_id
    ON CONFLICT (year, level, org_id, slot) DO UPDATE SET
        with_credit = o.with_credit + EXCLUDED.with_credit,
        complete = o.complete + EXCLUDED.complete,
        counted_hours = o.counted_hours + EXCLUDED.counted_hours
    """
)


async def insert_entries(session: AsyncSession, cols: dict[str, list[Any]]) -> list[Any]:
    """The rows actually inserted (a source recorded before is skipped)."""
    return list((await session.execute(_INSERT, cols)).all())


async def add_totals(session: AsyncSession, cols: dict[str, list[Any]]) -> None:
    await session.execute(_ADD_TOTALS, cols)


async def refresh_teacher_years(session: AsyncSession, params: dict[str, Any]) -> None:
    await session.execute(_TEACHER_YEARS, {**params, "slot": random.randrange(ORG_TOTAL_SLOTS)})


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
    session: AsyncSession,
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
    return list((await session.scalars(stmt)).all())


async def totals(session: AsyncSession, *, teacher_id: uuid.UUID, year: int) -> list[LedgerTotal]:
    stmt = select(LedgerTotal).where(LedgerTotal.teacher_id == teacher_id, LedgerTotal.year == year)
    return list((await session.scalars(stmt)).all())


async def totals_as_of(
    session: AsyncSession, *, teacher_id: uuid.UUID, year: int, as_of: datetime
) -> list[tuple[str, str, Decimal]]:
    """(category, region, hours) from the entries recorded up to `as_of`."""
    stmt = (
        select(LedgerEntry.category, LedgerEntry.region, func.sum(LedgerEntry.hours))
        .where(
            LedgerEntry.teacher_id == teacher_id,
            LedgerEntry.year == year,
            LedgerEntry.recorded_at <= as_of,
        )
        .group_by(LedgerEntry.category, LedgerEntry.region)
    )
    return [(c, r, Decimal(h)) for c, r, h in (await session.execute(stmt)).all()]


async def teacher_years(session: AsyncSession, *, teacher_id: uuid.UUID) -> list[TeacherYear]:
    stmt = (
        select(TeacherYear).where(TeacherYear.teacher_id == teacher_id).order_by(TeacherYear.year)
    )
    return list((await session.scalars(stmt)).all())


async def teacher(session: AsyncSession, teacher_id: uuid.UUID) -> Teacher | None:
    return await session.get(Teacher, teacher_id)


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
