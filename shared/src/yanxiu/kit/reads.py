"""Reads on the driver (驱动读): the statements of a safe request (GET, HEAD) go straight to
asyncpg, without the ORM session.

Through an `AsyncSession` one `SELECT` by primary key costs several times the statement itself
in CPU (session and transaction objects, pool checkout and its events, greenlet hops, the
ORM's loading of each row), and a read is little else: that overhead is most of what kept
reads at a fraction of the floor. Here a statement is still written with SQLAlchemy (so a
repository reads the same as everywhere else), but it is compiled once per shape (SQLAlchemy's
own cache key finds the compiled form, parameters included) to the driver's `$n` SQL and run on
an asyncpg pool of the service's own; rows come back as asyncpg records, or, for a `select` of
one mapped class, as instances of it, filled without the ORM's per-row machinery.

What the `Reader` is for, and what it is not:
- safe requests only: it runs in autocommit, statement by statement, outside any session. A
  route that writes, or must read inside its own transaction (locks, one snapshot), uses the
  request's session as before;
- the instances it returns are detached and complete (every column loaded); they are values to
  read, check and render, never to change or add to a session;
- statements are counted like the session's (`kit.db.statements_var`), and its failures are
  the driver's own (asyncpg errors, `OSError`, `TimeoutError`), which the kit's error handlers
  already answer as 503 `database_unavailable`.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar, cast

import asyncpg
from asyncpg.pool import PoolConnectionProxy
from sqlalchemy import bindparam, inspect, select
from sqlalchemy.dialects.postgresql.asyncpg import dialect as asyncpg_dialect
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import configure_mappers
from sqlalchemy.sql import ClauseElement, Select, TextClause
from sqlalchemy.sql.compiler import SQLCompiler

from yanxiu.kit.db import CONNECT_TIMEOUT, POOL_TIMEOUT, count_statement, plain_url

M = TypeVar("M")
T = TypeVar("T")
# Any `select(…)`, whatever its columns (SQLAlchemy types a select by the tuple of its row).
Query = Select[*tuple[Any, ...]]

# `$1, $2 …` placeholders, as asyncpg takes them.
_DIALECT = asyncpg_dialect(paramstyle="numeric_dollar")
# Compiled statements by SQLAlchemy cache key: one entry per statement shape (a repository
# function with its optional filters), bounded so that an unexpected stream of shapes cannot
# grow it without end.
_CACHE_LIMIT = 2000


@dataclass(frozen=True)
class Compiled:
    sql: str
    names: tuple[str, ...]
    processors: tuple[Callable[[Any], Any] | None, ...]
    compiled: SQLCompiler


@dataclass(frozen=True)
class _Loader:
    """Builds detached instances of one mapped class from records whose keys are its column
    names (what `select(Model)` returns)."""

    new: Callable[[], Any]
    keys: tuple[tuple[str, str], ...]  # (record key, attribute name)

    def __call__(self, record: asyncpg.Record) -> Any:
        instance = self.new()
        values = instance.__dict__
        for column, attribute in self.keys:
            values[attribute] = record[column]
        return instance


_compiled: dict[Any, Compiled] = {}
_expanding: set[Any] = set()
_loaders: dict[type, _Loader] = {}


class Prepared:
    """A statement built and compiled once, at import, whose values are named bind parameters
    given at each call: `Prepared(select(T).where(T.id == bindparam("id")))`, then
    `reader.records(prepared, id=…)`. Building a `select` and finding its compiled form costs
    a short read about as much as running it; a hot repository function prepares its statement
    (one per shape of its optional filters) and pays neither. A `text()` statement (a recursive
    query, say) is prepared the same way, its `:name` parameters given at each call."""

    def __init__(self, stmt: Query | TextClause) -> None:
        self.stmt = stmt
        self.entry = _compile_new(stmt)
        if "__[POSTCOMPILE_" in self.entry.sql:
            raise TypeError("a prepared statement cannot hold IN (…) of a list: use = any(…)")
        self.defaults = self.entry.compiled.construct_params(_check=False)
        self.required = frozenset(
            name for name, bind in self.entry.compiled.binds.items() if bind.required
        )

    def args(self, params: dict[str, Any]) -> list[Any]:
        missing = self.required - params.keys()
        if missing:
            raise TypeError(f"missing values for {sorted(missing)}")
        values = {**self.defaults, **params}
        return _processed(self.entry, [values[name] for name in self.entry.names])


def _processed(entry: Compiled, args: list[Any]) -> list[Any]:
    for i, process in enumerate(entry.processors):
        if process is not None and args[i] is not None:
            args[i] = process(args[i])
    return args


def compile_statement(stmt: Query | Prepared, params: dict[str, Any]) -> tuple[Compiled, list[Any]]:
    if isinstance(stmt, Prepared):
        return stmt.entry, stmt.args(params)
    if params:
        raise TypeError("values are given to a Prepared statement; a select carries its own")
    return _compile(stmt)


def _compile(stmt: Query) -> tuple[Compiled, list[Any]]:
    key = stmt._generate_cache_key()
    if key is None:  # a construct SQLAlchemy cannot cache: compile it every time
        entry = _compile_new(stmt)
        params = entry.compiled.construct_params()
    elif key.key in _expanding:
        # `IN (…)` of a list: its SQL depends on the list's length, so it is compiled per
        # call with the list written out (`= any(:array)` keeps one statement instead).
        entry = _compile_new(stmt, render_postcompile=True)
        params = entry.compiled.construct_params()
    else:
        entry_or_none = _compiled.get(key.key)
        if entry_or_none is None:
            entry_or_none = _compile_new(stmt, cache_key=key)
            if "__[POSTCOMPILE_" in entry_or_none.sql:
                _expanding.add(key.key)
                return _compile(stmt)
            if len(_compiled) >= _CACHE_LIMIT:
                _compiled.clear()
            _compiled[key.key] = entry_or_none
        entry = entry_or_none
        params = entry.compiled.construct_params(extracted_parameters=key.bindparams)
    return entry, _processed(entry, [params[name] for name in entry.names])


def compile_once(stmt: ClauseElement) -> Compiled:
    """The `$n` form of a statement built once (an INSERT of `kit.writes`, say), for
    `positional` to give values to."""
    return _compile_new(stmt)


def positional(entry: Compiled, values: dict[str, Any]) -> list[Any]:
    """The arguments of a `compile_once` statement from its named values, as the driver takes
    them (through the types' bind processors: JSON as text, say)."""
    return _processed(entry, [values[name] for name in entry.names])


def _compile_new(
    stmt: Query | ClauseElement, *, cache_key: Any = None, render_postcompile: bool = False
) -> Compiled:
    compiled: Any = stmt.compile(
        dialect=_DIALECT,
        cache_key=cache_key,
        compile_kwargs={"render_postcompile": render_postcompile},
    )
    names = tuple(compiled.positiontup or ())
    bind_processors: dict[str, Any] = dict(compiled._bind_processors)
    return Compiled(
        sql=compiled.string,
        names=names,
        processors=tuple(bind_processors.get(name) for name in names),
        compiled=compiled,
    )


def loader(model: type[M]) -> _Loader:
    """Builds detached `model`s from records holding its columns (by column name)."""
    loader = _loaders.get(model)
    if loader is None:
        configure_mappers()
        mapper = inspect(model)
        keys = tuple(
            (prop.columns[0].name, prop.key)
            for prop in mapper.column_attrs
            if len(prop.columns) == 1 and prop.columns[0].table is mapper.local_table
        )
        loader = _Loader(new=mapper.class_manager.new_instance, keys=keys)
        _loaders[model] = loader
    return loader


def _json_text(value: Any) -> str:
    # SQLAlchemy's bind processor of a JSON type has already serialised the value.
    return value if isinstance(value, str) else json.dumps(value)


async def _init_connection(conn: asyncpg.Connection) -> None:
    # As SQLAlchemy's asyncpg dialect does: JSON columns arrive as Python values.
    for name in ("json", "jsonb"):
        await conn.set_type_codec(
            name, encoder=_json_text, decoder=json.loads, schema="pg_catalog", format="text"
        )


async def _reset_connection(conn: asyncpg.Connection) -> None:
    """What a connection needs on its way back to the pool. asyncpg's default sends one more
    statement after every use (`RESET ALL`, `UNLISTEN *`, `CLOSE ALL`, advisory unlocks): a
    round trip per statement here, for state that nothing run through the Reader creates
    (it sends single SELECTs in autocommit: no SET, LISTEN, cursor or lock outlives one)."""
    if conn.is_in_transaction():
        await conn.execute("ROLLBACK")


async def within(awaitable: Awaitable[T], seconds: float) -> T:
    """`awaitable`, or `TimeoutError` once `seconds` have passed: `asyncio.wait_for` without
    the task it wraps the awaitable in (asyncpg's bounded `acquire` makes one per call, and
    under load, when every connection is busy, that task cost a short read ~5 % of its time).
    The wait is cut by cancelling the current task, as `asyncio.timeout` does; a cancellation
    from elsewhere is passed on as it came."""
    task = asyncio.current_task()
    assert task is not None
    expired = False

    def expire() -> None:
        nonlocal expired
        expired = True
        task.cancel()

    deadline = asyncio.get_running_loop().call_later(seconds, expire)
    try:
        return await awaitable
    except asyncio.CancelledError:
        if expired and task.uncancel() == 0:
            raise TimeoutError(f"not done within {seconds} s") from None
        raise
    finally:
        deadline.cancel()


class _Borrowed:
    """One connection of the pool for an `async with`: taken at once when one is free,
    otherwise waited for at most `timeout` seconds (a saturated pool answers 503 in bounded
    time, never holds a request for as long as the load lasts).

    Waiting is first come, first served: the reader's gate (a semaphore of the pool's size;
    asyncio's wakes its waiters in order and lets no newcomer past them) is passed before the
    pool is asked, so the pool always has a connection for whoever passed. asyncpg's own wait
    is not fair: a request arriving as a connection comes back takes it, and the waiter that
    was woken for it goes to the back of the queue again. Under saturation some requests then
    waited many times longer than the rest: the county drill-down's p95 was 3.7× its median
    at 32 connections (bench.insights_dashboard)."""

    __slots__ = ("conn", "owner", "pool")

    conn: PoolConnectionProxy[asyncpg.Record]

    def __init__(self, pool: asyncpg.Pool, owner: Reader) -> None:
        self.pool = pool
        self.owner = owner

    async def __aenter__(self) -> PoolConnectionProxy[asyncpg.Record]:
        owner = self.owner
        gate = owner.gate
        if gate.locked():
            owner.waiting += 1  # not yet served (the pool metrics)
            try:
                await within(gate.acquire(), owner.acquire_timeout)
            finally:
                owner.waiting -= 1
        else:
            await gate.acquire()  # free: returns without waiting
        try:
            self.conn = await self.pool.acquire()
        except BaseException:
            gate.release()
            raise
        return self.conn

    async def __aexit__(self, *_exc: object) -> None:
        try:
            await self.pool.release(self.conn)
        finally:
            self.owner.gate.release()


class DriverReads:
    """Statements on the driver, rows as records or detached instances: a service's pool for
    safe requests (`Reader`), or a write's own connection inside its transaction
    (`kit.writes.SessionReads`). Each provides `records` and `record`."""

    async def records(self, stmt: Query | Prepared, **params: Any) -> list[asyncpg.Record]:
        """Every row of `stmt`, as records keyed by the names of its columns and labels."""
        raise NotImplementedError

    async def record(self, stmt: Query | Prepared, **params: Any) -> asyncpg.Record | None:
        """The first row of `stmt` (None if there is none)."""
        raise NotImplementedError

    async def scalar(self, stmt: Query | Prepared, **params: Any) -> Any:
        """The first column of the first row (None if there is no row)."""
        row = await self.record(stmt, **params)
        return None if row is None else row[0]

    async def scalars(self, stmt: Query | Prepared, **params: Any) -> list[Any]:
        """The first column of every row."""
        return [row[0] for row in await self.records(stmt, **params)]

    async def all(self, model: type[M], stmt: Query | Prepared, **params: Any) -> list[M]:
        """Every row of `select(model)…` as a detached, fully loaded `model`."""
        load = loader(model)
        return [load(row) for row in await self.records(stmt, **params)]

    async def one(self, model: type[M], stmt: Query | Prepared, **params: Any) -> M | None:
        """The first row of `select(model)…` as a detached `model` (None if there is none)."""
        row = await self.record(stmt, **params)
        return None if row is None else cast(M, loader(model)(row))

    async def get(self, model: type[M], key: Any) -> M | None:
        """The row of `model` with primary key `key` (a single-column key)."""
        return await self.one(model, _by_key(model), key=key)


class Reader(DriverReads):
    """A service's asyncpg pool for safe requests. The pool opens on first use and holds at
    most `size` connections (beside the session engine's pool: `size` counts against the
    database's connection limit too)."""

    def __init__(
        self,
        url: str,
        *,
        size: int = 6,
        connect_timeout: float = CONNECT_TIMEOUT,
        acquire_timeout: float = POOL_TIMEOUT,
    ) -> None:
        self.url = plain_url(url)
        self.size = size
        self.connect_timeout = connect_timeout
        self.acquire_timeout = acquire_timeout
        self._pool: asyncpg.Pool | None = None
        self._opening = asyncio.Lock()
        self.gate = asyncio.Semaphore(size)  # first come, first served (`_Borrowed`)
        self.waiting = 0  # requests waiting for a connection now

    def usage(self) -> tuple[int, int]:
        """Connections in use and idle (0, 0 before the pool opens)."""
        pool = self._pool
        if pool is None:
            return 0, 0
        idle = pool.get_idle_size()
        return pool.get_size() - idle, idle

    async def _get_pool(self) -> asyncpg.Pool:
        if self._pool is not None:
            return self._pool
        async with self._opening:
            if self._pool is None:
                self._pool = await asyncpg.create_pool(
                    self.url,
                    min_size=0,
                    max_size=self.size,
                    timeout=self.connect_timeout,
                    init=_init_connection,
                    reset=_reset_connection,
                    # A connection idle this long is closed: a quiet service holds none.
                    max_inactive_connection_lifetime=60.0,
                )
        return self._pool

    def _acquire(self, pool: asyncpg.Pool) -> _Borrowed:
        return _Borrowed(pool, self)

    async def close(self) -> None:
        pool, self._pool = self._pool, None
        if pool is not None:
            await asyncio.wait_for(pool.close(), 10.0)

    async def records(self, stmt: Query | Prepared, **params: Any) -> list[asyncpg.Record]:
        """Every row of `stmt`, as records keyed by the names of its columns and labels."""
        entry, args = compile_statement(stmt, params)
        pool = await self._get_pool()
        count_statement()
        async with self._acquire(pool) as conn:
            rows: list[asyncpg.Record] = await conn.fetch(entry.sql, *args)
        return rows

    async def record(self, stmt: Query | Prepared, **params: Any) -> asyncpg.Record | None:
        """The first row of `stmt` (None if there is none)."""
        entry, args = compile_statement(stmt, params)
        pool = await self._get_pool()
        count_statement()
        async with self._acquire(pool) as conn:
            row: asyncpg.Record | None = await conn.fetchrow(entry.sql, *args)
        return row


_key_statements: dict[type, Prepared] = {}


def _by_key(model: type[Any]) -> Prepared:
    prepared = _key_statements.get(model)
    if prepared is None:
        primary: Sequence[Any] = inspect(model).primary_key
        if len(primary) != 1:
            raise TypeError(f"{model.__name__} has a composite key; use Reader.one")
        prepared = Prepared(select(model).where(primary[0] == bindparam("key")))
        _key_statements[model] = prepared
    return prepared


# --- one repository function for both sides ------------------------------------------------
# A query that a write path runs inside its transaction and a safe request runs on the driver
# is written once, and takes either.
Db = AsyncSession | DriverReads


async def rows(db: Db, model: type[M], stmt: Query | Prepared, **params: Any) -> list[M]:
    """Every `model` that `select(model)…` finds, through the session or the reader."""
    if isinstance(db, DriverReads):
        return await db.all(model, stmt, **params)
    if isinstance(stmt, Prepared):
        return list((await db.scalars(stmt.stmt, params)).all())
    return list((await db.scalars(stmt)).all())


async def first(db: Db, model: type[M], stmt: Query) -> M | None:
    """The first `model` that `select(model)…` finds (None if none)."""
    if isinstance(db, DriverReads):
        return await db.one(model, stmt)
    found: M | None = (await db.scalars(stmt.limit(1))).first()
    return found


async def by_key(db: Db, model: type[M], key: Any) -> M | None:
    """The `model` with primary key `key`."""
    return await db.get(model, key)


async def tuples(db: Db, stmt: Query) -> Sequence[Any]:
    """The rows of a select of columns, through the session (rows) or the reader (records):
    either unpacks and indexes by position."""
    if isinstance(db, DriverReads):
        return await db.records(stmt)
    return (await db.execute(stmt)).all()
