"""The request's unit of work costs no more round trips than its own statements: a read (GET)
runs in autocommit, with no BEGIN and COMMIT around it, yet what it records is committed; a
write is one transaction; a pooled connection is pinged only after sitting idle, and one that
died while idle is replaced without the request noticing."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from typing import Any

import asyncpg
import httpx
import pytest
import pytest_asyncio
from fastapi import APIRouter
from prometheus_client.parser import text_string_to_metric_families
from sqlalchemy import func, select, text
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.dialects.postgresql.asyncpg import AsyncAdapt_asyncpg_connection
from sqlalchemy.ext.asyncio import AsyncEngine

from shared.tests.kit_fixtures import effects, kittest_client, tables
from yanxiu.kit import db as kit_db
from yanxiu.kit.audit import AuditTrail
from yanxiu.kit.db import driver_connection, make_session_factory, plain_url
from yanxiu.kit.deps import Session
from yanxiu.kit.errors import Conflict
from yanxiu.kit.settings import KitSettings

router = APIRouter()
audit = AuditTrail(tables["audit_log"])


@router.get("/kittest/in-transaction")
async def read_in_transaction(session: Session) -> dict[str, Any]:
    await session.execute(select(effects.c.count).limit(1))
    return {"in_transaction": (await driver_connection(session)).is_in_transaction()}


@router.post("/kittest/in-transaction")
async def write_in_transaction(session: Session) -> dict[str, Any]:
    await session.execute(select(effects.c.count).limit(1))
    return {"in_transaction": (await driver_connection(session)).is_in_transaction()}


@router.get("/kittest/revealed/{key}")
async def read_and_record(session: Session, key: str) -> dict[str, Any]:
    """A read that records who looked (as a reveal of an ID number does)."""
    audit.add(session, actor=None, action="reveal", target_type="effect", target_id=key)
    return {"key": key}


@router.post("/kittest/effects/{key}", status_code=201)
async def write_effect(session: Session, key: str) -> dict[str, Any]:
    await session.execute(insert(effects).values(key=key, count=1))
    raise Conflict("第二步失败", "The second step failed")


@pytest_asyncio.fixture
async def client(
    engine: AsyncEngine, settings_for: Callable[..., KitSettings]
) -> AsyncIterator[httpx.AsyncClient]:
    async with kittest_client(settings_for, router) as c:
        yield c


async def test_a_read_runs_in_autocommit_and_a_write_in_one_transaction(
    client: httpx.AsyncClient,
) -> None:
    assert (await client.get("/kittest/in-transaction")).json() == {"in_transaction": False}
    assert (await client.post("/kittest/in-transaction")).json() == {"in_transaction": True}


async def test_what_a_read_records_is_committed(
    client: httpx.AsyncClient, engine: AsyncEngine
) -> None:
    assert (await client.get("/kittest/revealed/k1")).status_code == 200
    log = tables["audit_log"]
    async with engine.connect() as conn:
        found = await conn.scalar(
            select(func.count()).select_from(log).where(log.c.target_id == "k1")
        )
    assert found == 1


async def test_a_failed_write_leaves_nothing_behind(
    client: httpx.AsyncClient, engine: AsyncEngine
) -> None:
    assert (await client.post("/kittest/effects/dup")).status_code == 409
    async with engine.connect() as conn:
        rows = await conn.scalar(
            select(func.count()).select_from(effects).where(effects.c.key == "dup")
        )
    assert rows == 0


async def test_a_connection_that_died_while_idle_is_replaced_before_use(
    engine: AsyncEngine, database_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    sessions = make_session_factory(engine)
    async with sessions() as session:
        pid = await session.scalar(text("SELECT pg_backend_pid()"))
        await session.commit()
    killer = await asyncpg.connect(plain_url(database_url))
    try:
        assert await killer.fetchval("SELECT pg_terminate_backend($1)", pid)
    finally:
        await killer.close()

    monkeypatch.setattr(kit_db, "IDLE_PING_SECONDS", 0.0)  # it has sat idle long enough
    async with sessions() as session:
        new_pid = await session.scalar(text("SELECT pg_backend_pid()"))
    assert new_pid != pid


async def test_a_connection_in_steady_use_is_not_pinged(
    engine: AsyncEngine, monkeypatch: pytest.MonkeyPatch
) -> None:
    pings: list[int] = []
    real_ping = AsyncAdapt_asyncpg_connection.ping

    def counting_ping(self: AsyncAdapt_asyncpg_connection) -> None:
        pings.append(1)
        real_ping(self)

    monkeypatch.setattr(AsyncAdapt_asyncpg_connection, "ping", counting_ping)
    sessions = make_session_factory(engine)
    for _ in range(20):
        async with sessions() as session:
            await session.execute(text("SELECT 1"))
    assert pings == []

    monkeypatch.setattr(kit_db, "IDLE_PING_SECONDS", 0.0)
    async with sessions() as session:
        await session.execute(text("SELECT 1"))
    assert pings == [1]


def _sample(text_: str, name: str, route: str, method: str = "GET") -> float:
    """A sample of the kittest service's metrics for one route template."""
    for family in text_string_to_metric_families(text_):
        for s in family.samples:
            labels = s.labels
            if (
                s.name == name
                and labels.get("service") == "kittest"
                and labels.get("route") == route
                and labels.get("method") == method
            ):
                return float(s.value)
    return 0.0


async def test_each_route_reports_its_latency_and_its_statements_by_template(
    client: httpx.AsyncClient,
) -> None:
    """Round trips are most of a request's time: the statements a route sends are counted
    per request (an audit entry's insert included), labelled by template, never by the path."""
    before = (await client.get("/metrics")).text
    for key in ("a", "b", "c"):
        assert (await client.get(f"/kittest/revealed/{key}")).status_code == 200
    assert (await client.get("/kittest/in-transaction")).status_code == 200
    after = (await client.get("/metrics")).text

    route = "/kittest/revealed/{key}"
    for name in ("yanxiu_http_db_statements_count", "yanxiu_http_request_duration_seconds_count"):
        assert _sample(after, name, route) - _sample(before, name, route) == 3
    # One INSERT of the audit entry per reveal.
    statements = "yanxiu_http_db_statements_sum"
    assert _sample(after, statements, route) - _sample(before, statements, route) == 3
    # The SELECT of the route; the driver-level check sends nothing through SQLAlchemy.
    reads = _sample(after, statements, "/kittest/in-transaction") - _sample(
        before, statements, "/kittest/in-transaction"
    )
    assert reads == 1
    assert "/kittest/revealed/a" not in after
