"""Async engine and session factory; the naming convention every schema uses."""

from __future__ import annotations

from typing import Any

from sqlalchemy import MetaData
from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)

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


# A database that is down must cost a request a 503 within about a second, not a hang: a
# connection to PostgreSQL takes milliseconds when it is up (asyncpg's own default waits 60 s).
CONNECT_TIMEOUT = 1.0
# Waiting longer than this for a pooled connection means the database is saturated or hung:
# answering 503 sheds the load instead of queueing every request behind it (SQLAlchemy's
# default waits 30 s).
POOL_TIMEOUT = 2.0


def make_engine(
    url: str,
    *,
    pool_size: int = 10,
    connect_timeout: float = CONNECT_TIMEOUT,
    pool_timeout: float = POOL_TIMEOUT,
) -> AsyncEngine:
    # hide_parameters: a failed statement's error (and so a log line) never carries its
    # values, which may be password hashes, ciphertexts or personal data.
    # pool_pre_ping: a connection that died with a restarted database is replaced on checkout,
    # so service resumes without a restart once the database is back.
    return create_async_engine(
        asyncpg_url(url),
        pool_size=pool_size,
        max_overflow=pool_size,
        pool_pre_ping=True,
        pool_timeout=pool_timeout,
        connect_args={"timeout": connect_timeout},
        hide_parameters=True,
    )


def make_session_factory(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    return async_sessionmaker(engine, expire_on_commit=False, autoflush=False)


async def driver_connection(session: AsyncSession) -> Any:
    """The asyncpg connection under the session's transaction, for the few paths where a
    million rows read or written through it must skip the ORM's per-row work (COPY, bulk
    reads). Whatever runs on it is still inside the session's transaction."""
    conn = await session.connection()
    raw = await conn.get_raw_connection()
    return raw.driver_connection
