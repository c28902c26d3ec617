"""The fault suite's platform: long-running processes on a PostgreSQL server and a broker of
the suite's own, built once per module, with a province on it."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator

import httpx
import pytest
import pytest_asyncio

from tests.faults.live import PROCESSES, LiveStack
from tests.province import world as world_mod
from yanxiu.devstack.broker import TansuBroker
from yanxiu.devstack.paths import SERVICES, repo_root
from yanxiu.devstack.postgres import create_database
from yanxiu.devstack.private_postgres import PrivateServer
from yanxiu.kit.db import asyncpg_url, make_engine, make_session_factory
from yanxiu.kit.migrations import upgrade
from yanxiu.kit.readiness import fully_ready


@pytest_asyncio.fixture(scope="module")
async def live(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[LiveStack]:
    home = tmp_path_factory.mktemp("faults")
    database = PrivateServer(home / "postgres")
    broker = TansuBroker(log_file=home / "tansu.log")
    stack = LiveStack(home=home, database=database, broker=broker)
    try:
        url = await migrated(database)
        await asyncio.to_thread(broker.start)
        stack.configure(url)
        for name in PROCESSES:
            stack.start(name)
        for name in PROCESSES:
            await stack.wait_up(name)
        await ready(stack)
        yield stack
    finally:
        stack.stop_all()
        broker.stop()
        await asyncio.to_thread(database.remove)


async def migrated(database: PrivateServer) -> str:
    """Starts the suite's own PostgreSQL with a database migrated to every service's head."""
    server = await asyncio.to_thread(database.start)
    url = asyncpg_url(await create_database(server, "yanxiu"))
    for name in (*SERVICES, "gateway"):
        await upgrade(repo_root() / "services" / name, url)
    return url


async def ready(stack: LiveStack, timeout: float = 60.0) -> None:
    """Until the platform is fully up: the gateway's /readyz with every check "ok", each
    service's broker and events included (a 200 alone says only that the gateway serves)."""
    deadline = time.monotonic() + timeout
    last = ""
    async with httpx.AsyncClient(timeout=3.0) as client:
        while time.monotonic() < deadline:
            try:
                answer = await client.get(f"{stack.url('gateway')}/readyz")
                last = answer.text
                if answer.status_code == 200 and fully_ready(answer.json()):
                    return
            except httpx.HTTPError as exc:
                last = repr(exc)
            await asyncio.sleep(0.25)
    raise TimeoutError(f"the platform is not ready: {last}")


@pytest_asyncio.fixture(scope="module")
async def province(live: LiveStack) -> AsyncIterator[world_mod.World]:
    engine = make_engine(live.database_url, pool_size=2)
    try:
        async with httpx.AsyncClient(base_url=live.url("gateway"), timeout=30) as client:
            yield await world_mod.build(client, make_session_factory(engine))
    finally:
        await engine.dispose()
