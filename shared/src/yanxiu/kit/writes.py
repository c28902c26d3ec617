"""Statements of a write on the driver (驱动写): a write keeps its `AsyncSession` — the session
owns the transaction, the kit commits it before the answer and rolls it back on an error — but a
statement that needs nothing of the ORM (an insert of plain values, no instance to track) can
run on the session's own asyncpg connection, inside that same transaction.

Through the session a statement costs SQLAlchemy's whole execution path (~230 µs of CPU for a
short INSERT, Core or ORM alike); on the driver ~35 µs (`bench.write_shapes`: the same five
statements 1.2–1.6 ms through the session, 0.43 ms on its connection). What runs here:
- sees what the transaction has written and flushed, and nothing pending in the session (the
  kit's sessions do not autoflush: the same as a `session.execute`);
- commits and rolls back with the session, savepoints included;
- counts as one of the request's statements; its failures are the driver's own (asyncpg errors,
  `OSError`), which the kit's error handlers answer like the session's.

`add(session, instance)` inserts a new mapped instance on the driver (one `INSERT … RETURNING` of
what the database fills in) and puts it in the session as a row it loaded: later changes to it
are flushed as UPDATEs like any other. It is for rows a write creates and answers with (a new
teacher, a selection, a history row, an audit entry); a constraint the row breaks is an
`IntegrityError`, as from a flush.

`SessionReads(session)` is a `kit.reads.Db` for the repositories that take one: their reads run
on the write's connection and return detached instances (values to check, never to change:
an instance the write changes or deletes is read through the session, which tracks it).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any, TypeVar

import asyncpg
from sqlalchemy import Table, bindparam, insert, inspect
from sqlalchemy.exc import DisconnectionError, IntegrityError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession
from sqlalchemy.orm import Mapper, make_transient_to_detached
from sqlalchemy.sql import Executable

from yanxiu.kit.db import count_statement
from yanxiu.kit.reads import (
    Compiled,
    DriverReads,
    Prepared,
    Query,
    compile_once,
    compile_statement,
    positional,
)

T = TypeVar("T")


async def _on_driver(
    session: AsyncSession, work: Callable[[asyncpg.Connection], Awaitable[T]]
) -> T:
    """`work` on the asyncpg connection under the session's transaction, that transaction
    begun, counted as one statement of the request.

    SQLAlchemy's asyncpg adapter sends BEGIN lazily, with the first statement it runs: a
    statement sent to the driver before that would run outside the transaction, in autocommit.
    So the adapter's transaction is started here when it has not been yet.

    A statement's failure is the driver's own error (the kit answers it like the session's: 422
    for a value out of range, 409 or 503 for what PostgreSQL refuses). A connection that failed
    under it — the database restarted — is invalidated, as SQLAlchemy does for its own
    statements, so the pool never hands it out again, and the failure is a `DisconnectionError`
    (503)."""
    sa_conn, adapted = await _bound(session)
    conn: asyncpg.Connection = adapted.driver_connection
    try:
        if adapted._transaction is None:
            try:
                await adapted._start_transaction()
            except Exception as wrapped:
                # the adapter wraps the driver's error in its own DB-API class: unwrap it
                cause = wrapped.__cause__
                raise (cause if isinstance(cause, Exception) else wrapped) from None
        count_statement()
        return await work(conn)
    except asyncpg.DataError:
        raise  # a value the driver cannot send: the caller's (422), the connection is fine
    except CONNECTION_LOST as error:
        # The connection closed, reset, or out of step with the server (which ends its
        # sessions when it stops, and asyncpg may meet that message mid-operation): it cannot
        # be trusted again. Out of the pool, and an outage to the caller.
        session.info.pop(_BOUND, None)
        await sa_conn.invalidate(error)
        raise DisconnectionError(f"database connection lost: {error!r}") from error
    except Exception as error:
        if conn.is_closed():
            session.info.pop(_BOUND, None)
            await sa_conn.invalidate(error)
        raise


# session.info key: ((the session's transaction, its savepoint), connection, adapter).
_BOUND = "yanxiu.writes.bound"


def _transactions(session: AsyncSession) -> tuple[Any, Any]:
    sync = session.sync_session
    return sync.get_transaction(), sync.get_nested_transaction()


async def _bound(session: AsyncSession) -> tuple[AsyncConnection, Any]:
    """The session's connection in its current transaction and the DB-API adapter under it,
    looked up once per transaction and savepoint: the look-up is two greenlet switches
    (~30 µs), and a write sends several statements. A transaction holds one connection from
    start to end; a new one, or a savepoint begun or ended, is looked up again (the look-up is
    what sends a savepoint's SAVEPOINT)."""
    current = _transactions(session)
    bound = session.info.get(_BOUND)
    if (
        bound is not None
        and current[0] is not None
        and bound[0][0] is current[0]
        and bound[0][1] is current[1]
        and current[0].is_active
    ):
        return bound[1], bound[2]
    sa_conn = await session.connection()
    raw = await sa_conn.get_raw_connection()
    session.info[_BOUND] = (_transactions(session), sa_conn, raw.dbapi_connection)
    return sa_conn, raw.dbapi_connection


# What the driver raises when the connection, not the statement, failed.
CONNECTION_LOST = (asyncpg.InterfaceError, asyncpg.InternalClientError, OSError)


async def execute(session: AsyncSession, sql: str, *args: Any) -> str:
    """Run `sql` (with `$n` placeholders) in the session's transaction; its status tag."""
    status: str = await _on_driver(session, lambda conn: conn.execute(sql, *args))
    return status


async def fetchval(session: AsyncSession, sql: str, *args: Any) -> Any:
    """The first column of the first row of `sql`, in the session's transaction."""
    return await _on_driver(session, lambda conn: conn.fetchval(sql, *args))


async def fetchrow(session: AsyncSession, sql: str, *args: Any) -> asyncpg.Record | None:
    """The first row of `sql`, in the session's transaction (None if there is none)."""
    row: asyncpg.Record | None = await _on_driver(session, lambda conn: conn.fetchrow(sql, *args))
    return row


async def run(session: AsyncSession, stmt: Executable) -> list[asyncpg.Record]:
    """A Core statement (`insert(…).values(…).on_conflict_do_nothing().returning(…)`, an
    `update(…)`) on the driver, in the session's transaction; the rows it returns. Compiled once
    per shape, its values bound as the session would bind them. Columns filled by Python-side
    defaults are the session's to compute: a statement that leaves one unset is refused, give
    it a value (or use `add`). A constraint the statement breaks raises `IntegrityError`, as
    through the session."""
    entry, args = compile_statement(stmt, {})  # type: ignore[arg-type]
    compiled: Any = entry.compiled
    if compiled.insert_prefetch or compiled.update_prefetch:
        raise TypeError(
            "writes.run: a column of this statement takes a Python-side default; give it a "
            f"value ({[c.name for c in [*compiled.insert_prefetch, *compiled.update_prefetch]]})"
        )
    try:
        found: list[asyncpg.Record] = await _on_driver(
            session, lambda conn: conn.fetch(entry.sql, *args)
        )
    except asyncpg.IntegrityConstraintViolationError as refused:
        raise IntegrityError(entry.sql, args, refused) from refused
    return found


@dataclass(frozen=True)
class _Insert:
    """The INSERT of one mapped class with one set of given attributes, compiled once."""

    entry: Compiled
    returned: tuple[tuple[str, str], ...]  # (column name in the row, attribute key)


_inserts: dict[tuple[type, frozenset[str]], _Insert] = {}


async def add(session: AsyncSession, instance: Any) -> None:
    """Insert the new mapped `instance` on the driver, in the session's transaction, and put
    it in the session as a loaded row.

    The values are the instance's attributes and, for those it leaves unset, its columns'
    Python defaults (`default=uuid.uuid4`); what the database fills in (identities, server
    defaults) comes back with RETURNING and is set on the instance, so it is complete, as after
    a flush. A constraint the row breaks (a unique index, a foreign key) raises
    `IntegrityError` with the driver's error as `orig`, as a flush would."""
    mapper: Mapper[Any] = inspect(type(instance))
    if inspect(instance).key is not None:
        raise ValueError("writes.add inserts new instances only")
    given = instance.__dict__
    related = [key for key in mapper.relationships.keys() if key in given]  # noqa: SIM118 (iterating gives properties)
    if related:
        raise TypeError(f"writes.add takes column values only, not {related}: set the keys")
    values: dict[str, Any] = {}
    for prop in mapper.column_attrs:
        key = prop.key
        if key in given:
            values[key] = given[key]
            continue
        default = prop.columns[0].default
        if default is None:
            continue
        if default.is_scalar:
            value = default.arg
        elif default.is_callable:
            value = default.arg(None)  # wrapped by SQLAlchemy: takes an execution context
        else:
            raise TypeError(f"{mapper.class_.__name__}.{key}: a SQL default is not supported")
        setattr(instance, key, value)
        values[key] = value
    shape = _insert_of(mapper, frozenset(values))
    args = positional(shape.entry, values)
    sql = shape.entry.sql
    try:
        if shape.returned:
            row = await _on_driver(session, lambda conn: conn.fetchrow(sql, *args))
            assert row is not None
            for column, key in shape.returned:
                setattr(instance, key, row[column])
        else:
            await _on_driver(session, lambda conn: conn.execute(sql, *args))
    except asyncpg.IntegrityConstraintViolationError as refused:
        raise IntegrityError(sql, args, refused) from refused
    make_transient_to_detached(instance)
    session.add(instance)


def _insert_of(mapper: Mapper[Any], given: frozenset[str]) -> _Insert:
    cache_key = (mapper.class_, given)
    shape = _inserts.get(cache_key)
    if shape is None:
        table: Table = mapper.local_table  # type: ignore[assignment]
        columns = {prop.key: prop.columns[0] for prop in mapper.column_attrs}
        stmt = insert(table).values(
            {columns[key]: bindparam(key, type_=columns[key].type) for key in sorted(given)}
        )
        rest = [(column, key) for key, column in columns.items() if key not in given]
        if rest:
            stmt = stmt.returning(*(column for column, _ in rest))
        shape = _Insert(
            entry=compile_once(stmt),
            returned=tuple((column.name, key) for column, key in rest),
        )
        _inserts[cache_key] = shape
    return shape


class SessionReads(DriverReads):
    """The reads of a write that only check or copy what they find (the school a teacher is
    added to, the course a teacher selects), on the write's own connection, inside its
    transaction: what `kit.reads` gives a safe request, for a write."""

    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def records(self, stmt: Query | Prepared, **params: Any) -> list[asyncpg.Record]:
        entry, args = compile_statement(stmt, params)
        rows: list[asyncpg.Record] = await _on_driver(
            self.session, lambda conn: conn.fetch(entry.sql, *args)
        )
        return rows

    async def record(self, stmt: Query | Prepared, **params: Any) -> asyncpg.Record | None:
        entry, args = compile_statement(stmt, params)
        return await fetchrow(self.session, entry.sql, *args)
