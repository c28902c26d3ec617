"""A service whose database is away answers 503 problem+json with `Retry-After` at once, never
a 500, and serves again as soon as the database is back, without a restart. The service is a
kit app served by uvicorn on a real port; its database is a server of the test's own."""

from __future__ import annotations

import asyncio
import socket
import time
from collections.abc import AsyncIterator, Callable
from typing import Any

import httpx
import pytest
from fastapi import APIRouter
from sqlalchemy import select, text
from sqlalchemy.dialects.postgresql import insert

from shared.tests.kit_fixtures import effects, metadata
from shared.tests.outage_fixtures import outage_db, private_pg
from yanxiu.devstack.private_postgres import PrivateServer
from yanxiu.kit.app import ServiceSpec, create_service_app
from yanxiu.kit.db import CONNECT_TIMEOUT
from yanxiu.kit.deps import Session
from yanxiu.kit.errors import PROBLEM_JSON
from yanxiu.kit.settings import KitSettings
from yanxiu.testing import served

__all__ = ["outage_db", "private_pg"]  # fixtures: pytest finds them here

router = APIRouter()


@router.get("/kittest/effects/{key}")
async def read_effect(session: Session, key: str) -> dict[str, Any]:
    count = await session.scalar(select(effects.c.count).where(effects.c.key == key))
    return {"key": key, "count": count}


@router.post("/kittest/effects/{key}", status_code=201)
async def write_effect(session: Session, key: str) -> dict[str, Any]:
    await session.execute(insert(effects).values(key=key, count=1).on_conflict_do_nothing())
    return {"key": key}


@router.get("/kittest/slow")
async def slow(session: Session) -> dict[str, Any]:
    await session.execute(text("SELECT pg_sleep(3)"))
    return {}


def app_for(settings: KitSettings) -> Any:
    spec = ServiceSpec(
        name="kittest", metadata=metadata, routers=[router], settings_factory=lambda: settings
    )
    return create_service_app(spec, settings)


@pytest.fixture
def settings(settings_for: Callable[..., KitSettings], outage_db: str) -> KitSettings:
    return settings_for(
        KitSettings,
        service_name="kittest",
        database_url=outage_db,
        run_relay=False,
        run_consumers=False,
    )


@pytest.fixture
async def client(settings: KitSettings) -> AsyncIterator[httpx.AsyncClient]:
    async with served(app_for(settings)) as url, httpx.AsyncClient(base_url=url) as c:
        yield c


async def timed(client: httpx.AsyncClient, method: str, path: str) -> tuple[httpx.Response, float]:
    started = time.monotonic()
    answer = await client.request(method, path)
    return answer, time.monotonic() - started


def assert_unavailable(answer: httpx.Response) -> None:
    assert answer.status_code == 503, answer.text
    assert answer.headers["content-type"].startswith(PROBLEM_JSON)
    assert int(answer.headers["retry-after"]) > 0
    body = answer.json()
    assert body["code"] == "database_unavailable"
    assert "数据库" in body["message_zh"] and "database" in body["message_en"]


async def test_database_down_is_503_with_retry_after_and_unready_then_recovers_without_restart(
    private_pg: PrivateServer, client: httpx.AsyncClient
) -> None:
    assert (await client.post("/kittest/effects/before")).status_code == 201
    assert (await client.get("/kittest/effects/before")).json()["count"] == 1

    await asyncio.to_thread(private_pg.stop, "fast")
    try:
        for method, path in [
            ("GET", "/kittest/effects/before"),  # a pooled connection, now dead
            ("POST", "/kittest/effects/during"),
            ("GET", "/kittest/effects/before"),  # a new connection, refused
        ]:
            answer, took = await timed(client, method, path)
            assert_unavailable(answer)
            assert took < 1.0, f"{method} {path} took {took:.2f}s to say 503"
        # The one dependency a replica cannot serve without: unready, and says why.
        ready = await client.get("/readyz")
        assert ready.status_code == 503
        assert ready.json()["status"] == "unavailable"
        assert ready.json()["checks"]["database"] != "ok"
    finally:
        await asyncio.to_thread(private_pg.start)

    # The very next requests succeed: the same process, its pool reconnecting by itself.
    assert (await client.post("/kittest/effects/after")).status_code == 201
    assert (await client.get("/kittest/effects/after")).json()["count"] == 1
    assert (await client.get("/kittest/effects/during")).json()["count"] is None
    assert (await client.get("/readyz")).status_code == 200


async def test_database_that_accepts_but_never_answers_is_a_503_after_the_connect_timeout(
    settings: KitSettings,
) -> None:
    """A hung server (or a network that drops packets) must not hold requests for asyncpg's
    default 60 s."""
    with socket.socket() as mute:
        mute.bind(("127.0.0.1", 0))
        mute.listen(64)  # the kernel completes handshakes; nobody ever answers
        port = mute.getsockname()[1]
        hung = settings.model_copy(
            update={
                "database_url": f"postgresql+asyncpg://postgres@127.0.0.1:{port}/x",
                "db_connect_timeout": CONNECT_TIMEOUT,
            }
        )
        async with served(app_for(hung)) as url, httpx.AsyncClient(base_url=url) as client:
            answer, took = await timed(client, "GET", "/kittest/effects/any")
    assert_unavailable(answer)
    assert took < CONNECT_TIMEOUT + 0.5, f"took {took:.2f}s"


async def test_exhausted_pool_is_a_503_after_the_pool_timeout_not_a_queue(
    settings: KitSettings,
) -> None:
    small = settings.model_copy(update={"db_pool_size": 1, "db_pool_timeout": 0.5})
    async with served(app_for(small)) as url, httpx.AsyncClient(base_url=url) as client:
        # pool_size 1 and no overflow (kit.db): one slow request holds every connection.
        holders = [asyncio.create_task(client.get("/kittest/slow"))]
        await asyncio.sleep(0.5)
        answer, took = await timed(client, "GET", "/kittest/effects/any")
        assert [h.status_code for h in await asyncio.gather(*holders)] == [200]
    assert_unavailable(answer)
    assert took < 1.5, f"took {took:.2f}s"
