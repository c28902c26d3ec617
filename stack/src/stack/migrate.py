"""Run every service's migrations (the `yanxiu migrate` command)."""

from __future__ import annotations

from yanxiu.devstack.paths import SERVICES, service_dir
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
