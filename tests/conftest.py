"""Fixtures of the platform-wide tests: the whole platform served, and a province built on it
through the public API (tests.province)."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from typing import Any

import httpx
import pytest_asyncio

from tests.province import world as world_mod
from tests.province.platform import platform
from yanxiu.kit.db import make_engine, make_session_factory


@pytest_asyncio.fixture
async def urls(
    settings_for: Callable[..., Any], keypair: tuple[str, str]
) -> AsyncIterator[dict[str, str]]:
    async with platform(settings_for, keypair[0]) as served:
        yield served


@pytest_asyncio.fixture
async def world(urls: dict[str, str], database_url: str) -> AsyncIterator[world_mod.World]:
    engine = make_engine(database_url, pool_size=2, connect_timeout=10.0)
    try:
        async with httpx.AsyncClient(base_url=urls["gateway"], timeout=30) as client:
            yield await world_mod.build(client, make_session_factory(engine))
    finally:
        await engine.dispose()
