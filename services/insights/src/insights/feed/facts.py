"""Changing facts and their tallies together, in the handler's transaction.

`change()` is the one way a handler touches a fact table:
1. rows not there yet are inserted as seeds (`ON CONFLICT DO NOTHING`), so that two consumers
   creating one row at once (a registration and a learning event of the same teacher, read
   from two topics by two replicas) wait for each other instead of both counting it;
2. the rows are locked and read (`FOR UPDATE`, in key order);
3. each edit changes its row in memory; the rows that changed are written back;
4. the tallies move by the rows' contributions after, minus before (insights.feed.tally).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from sqlalchemy import Table, select, text, tuple_
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from insights.feed import tally
from insights.models import (
    Lesson,
    OfflineRecord,
    ReviewLoad,
    Standing,
    TeacherYear,
)

Row = dict[str, Any]
Edit = Callable[[Row], None]


@dataclass(frozen=True)
class Facts:
    table: Table
    key: tuple[str, ...]
    contribution: Callable[[Mapping[str, Any] | None], tally.Contribution]


STANDINGS = Facts(Standing.__table__, ("project_id", "teacher_id"), tally.standing)  # type: ignore[arg-type]
TEACHER_YEARS = Facts(TeacherYear.__table__, ("teacher_id", "year"), tally.teacher_year)  # type: ignore[arg-type]
OFFLINE_RECORDS = Facts(OfflineRecord.__table__, ("record_id",), tally.offline_record)  # type: ignore[arg-type]
LESSONS = Facts(Lesson.__table__, ("lesson_id",), tally.lesson)  # type: ignore[arg-type]
REVIEW_LOADS = Facts(ReviewLoad.__table__, ("project_id", "school_id"), tally.review_load)  # type: ignore[arg-type]


@dataclass(frozen=True)
class FactEdit:
    """One change to one row. `seed`: the row to insert when it is not there (None: change it
    only if it exists)."""

    key: tuple[Any, ...]
    edit: Edit
    seed: Row | None = None


async def change(session: AsyncSession, facts: Facts, edits: Sequence[FactEdit]) -> None:
    if not edits:
        return
    table = facts.table
    key_cols = [table.c[name] for name in facts.key]
    seeds = {e.key: e.seed for e in edits if e.seed is not None}
    inserted: set[tuple[Any, ...]] = set()
    if seeds:
        result = await session.execute(
            insert(table)
            .values([seeds[k] for k in sorted(seeds, key=_sortable)])
            .on_conflict_do_nothing(index_elements=list(facts.key))
            .returning(*key_cols)
        )
        inserted = {tuple(r) for r in result.all()}
    keys = sorted({e.key for e in edits}, key=_sortable)
    cols = key_cols[0] if len(key_cols) == 1 else tuple_(*key_cols)
    wanted = [k[0] for k in keys] if len(key_cols) == 1 else keys
    result = await session.execute(
        select(table).where(cols.in_(wanted)).order_by(*key_cols).with_for_update()
    )
    rows: dict[tuple[Any, ...], Row] = {
        tuple(m[name] for name in facts.key): dict(m) for m in result.mappings()
    }
    # A row this statement inserted counted nothing before, whatever its seed says.
    before = {
        k: tally.Contribution() if k in inserted else facts.contribution(r) for k, r in rows.items()
    }
    originals: dict[tuple[Any, ...], Row | None] = {
        k: None if k in inserted else dict(r) for k, r in rows.items()
    }
    for e in edits:
        row = rows.get(e.key)
        if row is not None:
            e.edit(row)
    changed = [r for k, r in rows.items() if r != originals[k]]
    if not changed:
        return
    non_key = [c.name for c in table.c if c.name not in facts.key]
    stmt = insert(table).values(changed)
    await session.execute(
        stmt.on_conflict_do_update(
            index_elements=list(facts.key), set_={n: stmt.excluded[n] for n in non_key}
        )
    )
    delta = tally.Delta()
    for k in rows:
        if rows[k] != originals[k]:
            delta.add(before[k], facts.contribution(rows[k]))
    await apply(session, delta)


def _sortable(key: tuple[Any, ...]) -> tuple[str, ...]:
    return tuple(str(part) for part in key)


_CELLS = text(
    "INSERT INTO insights.tallies "
    "(scope, org_id, level, parent_id, metric, stage, subject, area, value) "
    "SELECT * FROM unnest(CAST(:scope AS text[]), CAST(:org AS text[]), "
    "CAST(:level AS smallint[]), CAST(:parent AS text[]), CAST(:metric AS text[]), "
    "CAST(:stage AS text[]), CAST(:subject AS text[]), CAST(:area AS text[]), "
    "CAST(:value AS numeric[])) "
    "ON CONFLICT (scope, org_id, metric, stage, subject, area) "
    "DO UPDATE SET value = insights.tallies.value + EXCLUDED.value"
)
_TOTALS = text(
    "INSERT INTO insights.tally_totals (scope, org_id, metric, level, parent_id, value) "
    "SELECT * FROM unnest(CAST(:scope AS text[]), CAST(:org AS text[]), "
    "CAST(:metric AS text[]), CAST(:level AS smallint[]), CAST(:parent AS text[]), "
    "CAST(:value AS numeric[])) "
    "ON CONFLICT (scope, org_id, metric) "
    "DO UPDATE SET value = insights.tally_totals.value + EXCLUDED.value"
)
_DRILLDOWN = text(
    "INSERT INTO insights.drilldown_rows (scope, org_id, level, parent_id, "
    + ", ".join(tally.DRILLDOWN_COLUMNS)
    + ") SELECT * FROM unnest(CAST(:scope AS text[]), CAST(:org AS text[]), "
    "CAST(:level AS smallint[]), CAST(:parent AS text[]), "
    + ", ".join(f"CAST(:{c} AS bigint[])" for c in tally.DRILLDOWN_COLUMNS)
    + ") ON CONFLICT (scope, org_id) DO UPDATE SET "
    + ", ".join(
        f"{c} = insights.drilldown_rows.{c} + EXCLUDED.{c}" for c in tally.DRILLDOWN_COLUMNS
    )
)
_DAYS = text(
    "INSERT INTO insights.daily (scope, org_id, metric, day, value) "
    "SELECT * FROM unnest(CAST(:scope AS text[]), CAST(:org AS text[]), "
    "CAST(:metric AS text[]), CAST(:day AS date[]), CAST(:value AS numeric[])) "
    "ON CONFLICT (scope, org_id, metric, day) "
    "DO UPDATE SET value = insights.daily.value + EXCLUDED.value"
)


async def _add(
    session: AsyncSession,
    stmt: Any,
    key_names: Sequence[str],
    rows: Sequence[tuple[tuple[Any, ...], Any]],
    values: Mapping[str, Callable[[Any], Any]],
) -> None:
    """One statement adding `rows` ((key, value) pairs, sorted): each key part and each of
    `values` (name → how to take it from a row's value) sent as an array."""
    if not rows:
        return
    keys = list(zip(*(k for k, _ in rows), strict=True))
    params: dict[str, Any] = {name: list(part) for name, part in zip(key_names, keys, strict=True)}
    for name, take in values.items():
        params[name] = [take(v) for _, v in rows]
    await session.execute(stmt, params)


def _value(v: Decimal) -> Decimal:
    return v


def _column(name: str) -> Callable[[dict[str, Decimal]], int]:
    return lambda line: int(line[name])


async def apply(session: AsyncSession, delta: tally.Delta) -> None:
    """Add a delta to the tallies: one statement each for the cells, their roll-up, the
    drill-down lines and the days."""
    cell_keys = ("scope", "org", "level", "parent", "metric", "stage", "subject", "area")
    await _add(session, _CELLS, cell_keys, delta.nonzero_cells(), {"value": _value})
    total_keys = ("scope", "org", "metric", "level", "parent")
    await _add(session, _TOTALS, total_keys, delta.rolled_up(), {"value": _value})
    columns = {c: _column(c) for c in tally.DRILLDOWN_COLUMNS}
    await _add(session, _DRILLDOWN, ("scope", "org", "level", "parent"), delta.drilldown(), columns)
    day_keys = ("scope", "org", "metric", "day")
    await _add(session, _DAYS, day_keys, delta.nonzero_days(), {"value": _value})


async def keys_of_teachers(
    session: AsyncSession, teacher_ids: Iterable[Any]
) -> list[tuple[Any, Any]]:
    """The (project, teacher) keys of every standing of these teachers."""
    ids = list(set(teacher_ids))
    if not ids:
        return []
    rows = await session.execute(
        select(Standing.project_id, Standing.teacher_id).where(Standing.teacher_id.in_(ids))
    )
    return [(p, t) for p, t in rows.all()]
