"""Fixtures of the insights tests: the app (its consumer reading the four topics) on this
test's database and broker, bearer headers for a role and org path, and a way to publish
events as their producers would and wait until insights has handled them."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Callable
from typing import Any

import httpx
import pytest
import pytest_asyncio
from sqlalchemy import text

from insights.config import Settings
from insights.main import create_app
from yanxiu.contracts.envelope import Envelope, Event
from yanxiu.testing import app_client, eventually

ROLE = {1: "province_admin", 2: "city_admin", 3: "county_admin", 4: "school_admin"}


@pytest_asyncio.fixture
async def client(settings_for: Callable[..., Any]) -> AsyncIterator[httpx.AsyncClient]:
    """The insights app; `client.app` is the app. Org names come from an enrollment that is
    not there: the dashboards show ids then, which is what these tests compare."""
    app = create_app(settings_for(Settings, enrollment_url="http://127.0.0.1:9"))
    async with app_client(app) as c:
        c.app = app  # type: ignore[attr-defined]
        yield c


@pytest.fixture
def admin(token_for: Callable[..., str]) -> Callable[[list[str]], dict[str, str]]:
    """Bearer headers of the admin of an org path (its depth says the level)."""

    def build(path: list[str]) -> dict[str, str]:
        return {"Authorization": f"Bearer {token_for(ROLE[len(path)], path)}"}

    return build


class Feed:
    """Publishes events to their topics (as each producer's relay does) and waits until the
    insights consumer has handled every one."""

    def __init__(self, client: httpx.AsyncClient) -> None:
        self.client = client
        self.runtime: Any = client.app.state.runtime  # type: ignore[attr-defined]

    async def send(self, *events: Event | Envelope) -> list[Envelope]:
        rt = self.runtime
        await rt.producer_ready.wait()
        sent = []
        for item in events:
            env = (
                item
                if isinstance(item, Envelope)
                else item.envelope(producer=item.TOPIC.split(".")[0], trace_id="test")
            )
            topic = rt.settings.topic(_topic_of(env))
            await rt.producer.send_and_wait(
                topic, env.model_dump_json().encode(), key=env.key.encode()
            )
            sent.append(env)
        return sent

    async def handled(self, envelopes: list[Envelope], timeout: float = 20.0) -> None:
        ids = [e.id for e in envelopes]

        async def done() -> bool:
            async with self.runtime.engine.connect() as conn:
                n = await conn.scalar(
                    text("SELECT count(*) FROM insights.inbox WHERE event_id = ANY(:ids)"),
                    {"ids": ids},
                )
            return n == len(set(ids))

        await eventually(done, timeout=timeout)

    async def __call__(self, *events: Event | Envelope) -> list[Envelope]:
        sent = await self.send(*events)
        await self.handled(sent)
        return sent


def _topic_of(env: Envelope) -> str:
    from yanxiu.contracts.registry import event_class

    cls = event_class(env.type, env.version)
    assert cls is not None, env.type
    return cls.TOPIC


@pytest_asyncio.fixture
async def feed(client: httpx.AsyncClient) -> Feed:
    return Feed(client)


def new_id() -> uuid.UUID:
    return uuid.uuid4()
