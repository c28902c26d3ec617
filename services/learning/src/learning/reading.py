"""Repository reads that serve the session (a write path, inside its transaction) and the
driver (a safe request, `yanxiu.kit.reads.Reader`) alike, beside the kit's own helpers (`rows`,
`first`, `by_key`, `tuples`): the rows of a prepared select of columns, one column of each row,
and pairs of two mapped classes."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, TypeVar, cast

from sqlalchemy import Table, inspect
from sqlalchemy.sql.elements import Label

from yanxiu.kit.reads import Db, DriverReads, Prepared, Query, loader

A = TypeVar("A")
B = TypeVar("B")


async def prepared_tuples(db: Db, stmt: Prepared, **params: Any) -> Sequence[Any]:
    """The rows of a prepared select of columns (`kit.reads.tuples` for a `Prepared`): either
    unpacks and indexes by position."""
    if isinstance(db, DriverReads):
        return await db.records(stmt, **params)
    return (await db.execute(stmt.stmt, params)).all()


async def column(db: Db, stmt: Query) -> list[Any]:
    """The first column of every row."""
    if isinstance(db, DriverReads):
        return await db.scalars(stmt)
    return list((await db.scalars(stmt)).all())


# Each side of a pair is selected under its own prefix: the two classes share column names
# (`id`, `status` …), and the reader's records are keyed by name.
_FIRST, _SECOND = "a_", "b_"
_labels: dict[tuple[type, str], tuple[Label[Any], ...]] = {}


def _labelled(model: type, prefix: str) -> tuple[Label[Any], ...]:
    found = _labels.get((model, prefix))
    if found is None:
        table: Table = inspect(model).local_table
        found = tuple(c.label(prefix + c.name) for c in table.columns)
        _labels[(model, prefix)] = found
    return found


class _Side:
    """One side of a record of a pair, keyed by the side's own column names."""

    __slots__ = ("prefix", "record")

    def __init__(self, record: Any, prefix: str) -> None:
        self.record = record
        self.prefix = prefix

    def __getitem__(self, key: str) -> Any:
        return self.record[self.prefix + key]


async def pairs(db: Db, stmt: Query, first: type[A], second: type[B]) -> list[tuple[A, B]]:
    """The rows of `select(first, second)…` (a join) as pairs of instances. On the driver the
    statement's columns become both classes' columns, each under its own prefix, and each side
    is a detached, complete instance."""
    if not isinstance(db, DriverReads):
        return [(row[0], row[1]) for row in (await db.execute(stmt)).all()]
    labelled = stmt.with_only_columns(*_labelled(first, _FIRST), *_labelled(second, _SECOND))
    load_first, load_second = loader(first), loader(second)
    return [
        (
            cast(A, load_first(cast(Any, _Side(r, _FIRST)))),
            cast(B, load_second(cast(Any, _Side(r, _SECOND)))),
        )
        for r in await db.records(labelled)
    ]


class PreparedPairs:
    """A join of two mapped classes built and compiled once, at import (`Prepared` for
    `pairs`): its values are named bind parameters given at each call."""

    def __init__(self, stmt: Any, first: type[A], second: type[B]) -> None:
        self.stmt = stmt
        self.first, self.second = first, second
        labelled = stmt.with_only_columns(*_labelled(first, _FIRST), *_labelled(second, _SECOND))
        self.prepared = Prepared(labelled)
        self.load_first, self.load_second = loader(first), loader(second)


async def prepared_pairs(db: Db, stmt: PreparedPairs, **params: Any) -> list[tuple[Any, Any]]:
    """The rows of a prepared join as pairs of instances (see `pairs`)."""
    if not isinstance(db, DriverReads):
        return [(row[0], row[1]) for row in (await db.execute(stmt.stmt, params)).all()]
    return [
        (
            stmt.load_first(cast(Any, _Side(r, _FIRST))),
            stmt.load_second(cast(Any, _Side(r, _SECOND))),
        )
        for r in await db.records(stmt.prepared, **params)
    ]
