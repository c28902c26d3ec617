"""A PostgreSQL server of the module's own, for tests that stop it: never the shared one."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator

import pytest
import pytest_asyncio

from shared.tests.kit_fixtures import create_schema
from yanxiu.devstack.postgres import create_database
from yanxiu.devstack.private_postgres import PrivateServer
from yanxiu.kit.db import asyncpg_url, make_engine


@pytest_asyncio.fixture(scope="module")
async def private_pg(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[PrivateServer]:
    server = PrivateServer(tmp_path_factory.mktemp("outage") / "pg")
    await asyncio.to_thread(server.start)
    yield server
    await asyncio.to_thread(server.remove)


@pytest_asyncio.fixture
async def outage_db(private_pg: PrivateServer) -> str:
    """A fresh database on the private server, with the kit's test schema."""
    url = asyncpg_url(await create_database(private_pg.url, f"kit_{uuid.uuid4().hex[:8]}"))
    engine = make_engine(url, pool_size=2)
    try:
        await create_schema(engine)
    finally:
        await engine.dispose()
    return url
