"""Fixtures of the credits tests: the app (consumers and relay running) on this test's database
and broker, and bearer headers for a role and org path."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from typing import Any

import httpx
import pytest
import pytest_asyncio

from credits.config import Settings
from credits.main import create_app
from yanxiu.testing import app_client


@pytest_asyncio.fixture
async def client(settings_for: Callable[..., Any]) -> AsyncIterator[httpx.AsyncClient]:
    """The credits app; `client.app` is the app."""
    app = create_app(settings_for(Settings))
    async with app_client(app) as c:
        c.app = app  # type: ignore[attr-defined]
        yield c


@pytest.fixture
def auth(token_for: Callable[..., str]) -> Callable[..., dict[str, str]]:
    def build(role: str, org: list[str], **kw: Any) -> dict[str, str]:
        return {"Authorization": f"Bearer {token_for(role, org, **kw)}"}

    return build
