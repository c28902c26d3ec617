"""Run every service's migrations (the `yanxiu migrate` command)."""

from __future__ import annotations

import asyncpg

from yanxiu.devstack.paths import SERVICES, service_dir
from yanxiu.devstack.postgres import create_database, database_name, with_database
from yanxiu.kit.db import plain_url
from yanxiu.kit.migrations import upgrade

MIGRATED = (*SERVICES, "gateway")


async def migrate_all(database_url: str) -> list[str]:
    done = []
    for name in MIGRATED:
        path = service_dir(name)
        if (path / "migrations" / "versions").is_dir():
            await upgrade(path, database_url)
            done.append(name)
    return done


async def ensure_database(database_url: str) -> bool:
    """Create the database DATABASE_URL names if it does not exist yet (through the server's
    `postgres` database); True if it was created."""
    try:
        conn = await asyncpg.connect(plain_url(database_url))
    except asyncpg.InvalidCatalogNameError:
        await create_database(with_database(database_url, "postgres"), database_name(database_url))
        return True
    await conn.close()
    return False
