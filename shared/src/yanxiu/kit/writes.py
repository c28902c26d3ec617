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

`SessionReads(session)` is a `kit.reads.Db` for the repositories that take one: their reads run
on the write's connection and return detached instances (values to check, never to change:
an instance the write changes or deletes is read through the session, which tracks it).
"""

from __future__ import annotations

from typing import Any

import asyncpg
from sqlalchemy.ext.asyncio import AsyncSession

from yanxiu.kit.db import count_statement
from yanxiu.kit.reads import DriverReads, Prepared, Query, compile_statement


async def connection(session: AsyncSession) -> asyncpg.Connection:
    """The asyncpg connection under the session's transaction, that transaction begun.

    SQLAlchemy's asyncpg adapter sends BEGIN lazily, with the first statement it runs: a
    statement sent to the driver before that would run outside the transaction, in autocommit.
    So the adapter's transaction is started here when it has not been yet."""
    raw = await (await session.connection()).get_raw_connection()
    adapted: Any = raw.dbapi_connection
    if adapted._transaction is None:
        await adapted._start_transaction()
    conn: asyncpg.Connection = adapted.driver_connection
    return conn


async def execute(session: AsyncSession, sql: str, *args: Any) -> str:
    """Run `sql` (with `$n` placeholders) in the session's transaction; its status tag."""
    conn = await connection(session)
    count_statement()
    status: str = await conn.execute(sql, *args)
    return status


class SessionReads(DriverReads):
    """The reads of a write that only check or copy what they find (the school a teacher is
    added to, the course a teacher selects), on the write's own connection, inside its
    transaction: what `kit.reads` gives a safe request, for a write."""

    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def records(self, stmt: Query | Prepared, **params: Any) -> list[asyncpg.Record]:
        entry, args = compile_statement(stmt, params)
        conn = await connection(self.session)
        count_statement()
        rows: list[asyncpg.Record] = await conn.fetch(entry.sql, *args)
        return rows

    async def record(self, stmt: Query | Prepared, **params: Any) -> asyncpg.Record | None:
        entry, args = compile_statement(stmt, params)
        conn = await connection(self.session)
        count_statement()
        row: asyncpg.Record | None = await conn.fetchrow(entry.sql, *args)
        return row
