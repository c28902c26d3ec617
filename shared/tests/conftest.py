"""Fixtures the kit's tests share (a test module may still define its own, which wins)."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest_asyncio
from sqlalchemy.ext.asyncio import AsyncEngine

from shared.tests.kit_fixtures import create_schema
from yanxiu.kit.db import make_engine


@pytest_asyncio.fixture
async def engine(database_url: str) -> AsyncIterator[AsyncEngine]:
    """An engine on a fresh database holding the kit test schema."""
    eng = make_engine(database_url, pool_size=5)
    await create_schema(eng)
    yield eng
    await eng.dispose()
