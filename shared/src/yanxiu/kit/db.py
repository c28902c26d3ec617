"""Async engine and session factory; the naming convention every schema uses."""

from __future__ import annotations

import time
from contextvars import ContextVar
from typing import Any

from sqlalchemy import MetaData, event, exc
from sqlalchemy.engine.interfaces import DBAPIConnection
from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)
from sqlalchemy.pool import AsyncAdaptedQueuePool, ConnectionPoolEntry, PoolProxiedConnection

NAMING_CONVENTION = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


def service_metadata(schema: str) -> MetaData:
    """The MetaData of one service: every table lives in the service's own schema."""
    return MetaData(schema=schema, naming_convention=NAMING_CONVENTION)


def asyncpg_url(url: str) -> str:
    """Accept postgres://, postgresql:// or postgresql+asyncpg:// and return the asyncpg form."""
    for prefix in ("postgresql+asyncpg://", "postgresql://", "postgres://"):
        if url.startswith(prefix):
            return "postgresql+asyncpg://" + url[len(prefix) :]
    return url


def plain_url(url: str) -> str:
    """The libpq form (for asyncpg.connect and psql)."""
    return asyncpg_url(url).replace("postgresql+asyncpg://", "postgresql://", 1)


# A database that is down must cost a request a 503 within seconds, not a hang (asyncpg's own
# default waits 60 s). A refused connection fails at once whatever this says; the bound is for
# a database that accepts and never answers. It is not tighter because a connection to a busy
# PostgreSQL (a backend forked, SCRAM authentication, on a machine whose cores are all taken)
# can take over a second, and failing those turns a slow minute into a retry storm.
CONNECT_TIMEOUT = 3.0
# Waiting longer than this for a pooled connection means the database is saturated or hung:
# answering 503 sheds the load instead of queueing every request behind it (SQLAlchemy's
# default waits 30 s).
POOL_TIMEOUT = 2.0


class WaitCountingPool(AsyncAdaptedQueuePool):
    """SQLAlchemy's asyncio queue pool, counting the checkouts that find no idle connection
    (they wait, or open one) while they are under way."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.waiting = 0

    def _do_get(self) -> ConnectionPoolEntry:
        if self.checkedin():
            return super()._do_get()
        self.waiting += 1
        try:
            return super()._do_get()
        finally:
            self.waiting -= 1


def make_engine(
    url: str,
    *,
    pool_size: int = 10,
    connect_timeout: float = CONNECT_TIMEOUT,
    pool_timeout: float = POOL_TIMEOUT,
) -> AsyncEngine:
    # hide_parameters: a failed statement's error (and so a log line) never carries its
    # values, which may be password hashes, ciphertexts or personal data.
    # max_overflow=0: a fixed set of connections. Overflow connections are closed as soon as
    # the load dips and opened again when it rises, and opening one (TLS negotiation,
    # start-up, authentication) costs a request several times its own work: under a steady
    # 32 connections, a pool of 10 + 10 overflow spent 8 % of the process reconnecting.
    engine = create_async_engine(
        asyncpg_url(url),
        pool_size=pool_size,
        max_overflow=0,
        pool_timeout=pool_timeout,
        poolclass=WaitCountingPool,
        connect_args={"timeout": connect_timeout},
        hide_parameters=True,
    )
    ping_when_idle(engine)
    count_statements(engine)
    return engine


# The statements the current request sent to the database (kit.app.RequestContextMiddleware
# sets a fresh counter per request and reports it): round trips are what a request's time is
# mostly made of, so a route that sends more than it needs shows up in the metrics.
statements_var: ContextVar[list[int] | None] = ContextVar("db_statements", default=None)


def count_statement() -> None:
    """One more statement of the current request (for those sent on the driver directly)."""
    counter = statements_var.get()
    if counter is not None:
        counter[0] += 1


def count_statements(engine: AsyncEngine) -> None:
    @event.listens_for(engine.sync_engine, "before_cursor_execute")
    def _sent(*_args: Any) -> None:
        count_statement()


# A connection idle this long is checked before use (see `ping_when_idle`).
IDLE_PING_SECONDS = 5.0


def ping_when_idle(engine: AsyncEngine, idle_seconds: float | None = None) -> None:
    """A connection that died with a restarted database is replaced on checkout, so service
    resumes without a restart once the database is back; but only a connection that sat idle
    is checked. SQLAlchemy's `pool_pre_ping` checks every checkout, and on asyncpg a ping is
    three round trips (BEGIN, an empty statement, ROLLBACK): more than the one statement of a
    typical request. A busy connection needs no ping: if the database goes away under it, the
    failing statement is recognised as a disconnect, the request answers 503 and SQLAlchemy
    invalidates every connection of the pool opened before it."""

    @event.listens_for(engine.sync_engine, "checkin")
    def _returned(_dbapi: DBAPIConnection, record: ConnectionPoolEntry) -> None:
        record.info["idle_since"] = time.monotonic()

    @event.listens_for(engine.sync_engine, "checkout")
    def _check(
        dbapi: DBAPIConnection, record: ConnectionPoolEntry, _proxy: PoolProxiedConnection
    ) -> None:
        since = record.info.get("idle_since")
        limit = IDLE_PING_SECONDS if idle_seconds is None else idle_seconds
        if since is None or time.monotonic() - since < limit:
            return
        try:
            dbapi.ping()
        except Exception as error:
            # The pool discards this connection and checks out another (a fresh one).
            raise exc.DisconnectionError(repr(error)) from error


def make_session_factory(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    return async_sessionmaker(engine, expire_on_commit=False, autoflush=False)


def make_read_session_factory(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    """Sessions for safe requests (GET, HEAD): autocommit, so a read is its own statements and
    nothing else, with no BEGIN and COMMIT round trips around them. A read that records
    something (an audit entry of a reveal) writes it as one statement, atomic by itself."""
    return async_sessionmaker(
        engine.execution_options(isolation_level="AUTOCOMMIT"),
        expire_on_commit=False,
        autoflush=False,
    )


async def driver_connection(session: AsyncSession) -> Any:
    """The asyncpg connection under the session's transaction, for the few paths where a
    million rows read or written through it must skip the ORM's per-row work (COPY, bulk
    reads). Whatever runs on it is still inside the session's transaction."""
    conn = await session.connection()
    raw = await conn.get_raw_connection()
    return raw.driver_connection
