"""Reads on the driver (kit.reads): a statement written with SQLAlchemy runs on asyncpg with the
values it was built with, compiled once per shape; rows of one mapped class come back as
complete, detached instances; a list in `IN (…)` works at any length; JSON arrives as values;
each statement counts as one of the request's; and a database that refuses a value or is gone
is a 422 or a 503 through the app, never a 500."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from typing import Any

import httpx
import pytest
import pytest_asyncio
from fastapi import APIRouter
from sqlalchemy import JSON, bindparam, cast, func, select, text
from sqlalchemy.ext.asyncio import AsyncEngine

from shared.tests.kit_fixtures import Effect, create_schema, effects, kittest_client
from yanxiu.kit import reads
from yanxiu.kit.db import make_engine, make_session_factory, statements_var
from yanxiu.kit.deps import Reads
from yanxiu.kit.reads import Reader
from yanxiu.kit.settings import KitSettings


@pytest_asyncio.fixture
async def engine(database_url: str) -> AsyncIterator[AsyncEngine]:
    eng = make_engine(database_url, pool_size=2)
    await create_schema(eng)
    async with eng.begin() as conn:
        await conn.execute(effects.insert(), [{"key": f"k{i:02d}", "count": i} for i in range(30)])
    yield eng
    await eng.dispose()


@pytest_asyncio.fixture
async def reader(engine: AsyncEngine, database_url: str) -> AsyncIterator[Reader]:
    r = Reader(database_url, size=2)
    yield r
    await r.close()


async def test_a_statement_runs_with_the_values_it_was_built_with(reader: Reader) -> None:
    def page(after: str, limit: int) -> Any:
        return (
            select(effects.c.key, effects.c["count"].label("n"))
            .where(effects.c.key > after)
            .order_by(effects.c.key)
            .limit(limit)
        )

    first = await reader.records(page("k00", 3))
    second = await reader.records(page("k10", 2))
    assert [(r["key"], r["n"]) for r in first] == [("k01", 1), ("k02", 2), ("k03", 3)]
    assert [(r["key"], r["n"]) for r in second] == [("k11", 11), ("k12", 12)]
    # one compiled form serves both: same shape, other values
    assert await reader.scalar(select(func.count()).select_from(effects)) == 30
    assert await reader.scalars(page("k27", 5)) == ["k28", "k29"]
    assert await reader.record(page("k29", 1)) is None


async def test_a_prepared_statement_takes_its_values_at_each_call(reader: Reader) -> None:
    above = reads.Prepared(
        select(effects.c.key)
        .where(effects.c["count"] >= bindparam("least"), effects.c.key != "k29")
        .order_by(effects.c.key)
        .limit(bindparam("n"))
    )
    assert await reader.scalars(above, least=26, n=5) == ["k26", "k27", "k28"]
    assert await reader.scalars(above, least=10, n=2) == ["k10", "k11"]
    with pytest.raises(TypeError, match="least"):
        await reader.scalars(above, n=2)
    with pytest.raises(TypeError, match="any"):
        reads.Prepared(select(effects.c.key).where(effects.c.key.in_(["k01", "k02"])))


async def test_rows_of_a_mapped_class_come_back_complete_and_detached(reader: Reader) -> None:
    got = await reader.get(Effect, "k07")
    assert got is not None and got.key == "k07" and got.times == 7
    assert await reader.get(Effect, "missing") is None
    many = await reader.all(
        Effect, select(Effect).where(effects.c["count"] >= 28).order_by(Effect.key)
    )
    assert [(e.key, e.times) for e in many] == [("k28", 28), ("k29", 29)]
    assert isinstance(many[0], Effect)


async def test_a_list_in_in_works_at_any_length(reader: Reader) -> None:
    def keys_in(keys: list[str]) -> Any:
        return select(effects.c.key).where(effects.c.key.in_(keys)).order_by(effects.c.key)

    assert await reader.scalars(keys_in(["k01", "k02"])) == ["k01", "k02"]
    assert await reader.scalars(keys_in(["k03", "k04", "k05", "nope"])) == ["k03", "k04", "k05"]
    assert await reader.scalars(keys_in([])) == []


async def test_json_arrives_as_values(reader: Reader) -> None:
    doc = {"学段": "primary", "hours": [1, 2]}
    got = await reader.scalar(select(cast(bindparam("doc", doc, type_=JSON), JSON)))
    assert got == doc


async def test_each_statement_counts_as_one_of_the_request(reader: Reader) -> None:
    counter = [0]
    token = statements_var.set(counter)
    try:
        await reader.get(Effect, "k01")
        await reader.records(select(effects.c.key).limit(2))
    finally:
        statements_var.reset(token)
    assert counter == [2]


async def test_one_repository_function_serves_the_session_and_the_reader(
    engine: AsyncEngine, reader: Reader
) -> None:
    async def top_two(db: reads.Db) -> list[tuple[str, int]]:
        stmt = select(Effect).order_by(effects.c["count"].desc()).limit(2)
        return [(e.key, e.times) for e in await reads.rows(db, Effect, stmt)]

    async with make_session_factory(engine)() as session:
        through_session = await top_two(session)
        found = await reads.first(session, Effect, select(Effect).where(effects.c.key == "k03"))
        keyed = await reads.by_key(session, Effect, "k04")
    assert through_session == await top_two(reader) == [("k29", 29), ("k28", 28)]
    on_driver = await reads.first(reader, Effect, select(Effect).where(effects.c.key == "k03"))
    assert found is not None and on_driver is not None and found.times == on_driver.times == 3
    by_driver = await reads.by_key(reader, Effect, "k04")
    assert keyed is not None and by_driver is not None and keyed.times == by_driver.times == 4


# --- through an app -------------------------------------------------------------------------

router = APIRouter()


@router.get("/kittest/effects/{key}")
async def read_effect(key: str, db: Reads) -> dict[str, Any]:
    found = await db.get(Effect, key)
    return {"key": key, "times": None if found is None else found.times}


@router.get("/kittest/refused")
async def refused(db: Reads) -> dict[str, Any]:
    # a value the database refuses as data (SQLSTATE 22): integer out of range
    return {"n": await db.scalar(select(text("2147483647::int4 + 1")))}


@pytest_asyncio.fixture
async def client(
    engine: AsyncEngine, settings_for: Callable[..., KitSettings]
) -> AsyncIterator[httpx.AsyncClient]:
    async with kittest_client(settings_for, router) as http:
        yield http


async def test_a_route_reads_on_the_driver(client: httpx.AsyncClient) -> None:
    ok = await client.get("/kittest/effects/k05")
    assert ok.status_code == 200 and ok.json() == {"key": "k05", "times": 5}
    missing = await client.get("/kittest/effects/zz")
    assert missing.json() == {"key": "zz", "times": None}


async def test_a_value_the_database_refuses_is_a_422_not_a_500(client: httpx.AsyncClient) -> None:
    got = await client.get("/kittest/refused")
    assert got.status_code == 422, got.text
    assert got.headers["content-type"].startswith("application/problem+json")
    assert got.json()["code"] == "value_out_of_range"


async def test_a_database_that_is_gone_is_a_503(
    database_url: str, settings_for: Callable[..., KitSettings]
) -> None:
    # a port where nothing listens: the driver pool cannot connect
    gone = database_url.replace(database_url.split("@", 1)[1].split("/", 1)[0], "127.0.0.1:9")
    async with kittest_client(settings_for, router, database_url=gone) as http:
        got = await http.get("/kittest/effects/k01")
    assert got.status_code == 503, got.text
    assert got.json()["code"] == "database_unavailable"
    assert "retry-after" in got.headers


async def test_a_saturated_pool_is_waited_for_a_bounded_time_then_refused(
    engine: AsyncEngine, database_url: str
) -> None:
    r = Reader(database_url, size=1, acquire_timeout=0.2)
    try:
        held = r._acquire(await r._get_pool())
        await held.__aenter__()
        started = asyncio.get_running_loop().time()
        with pytest.raises(TimeoutError):
            await r.scalar(select(func.count()).select_from(effects))
        waited = asyncio.get_running_loop().time() - started
        assert 0.15 <= waited < 1.0, waited
        # the refused wait took nothing: the connection comes back, and a read then succeeds,
        # in the same task (no cancellation of the timeout is left pending on it)
        await held.__aexit__()
        assert await r.scalar(select(func.count()).select_from(effects)) == 30
        await asyncio.sleep(0)
        assert await r.scalar(select(func.count()).select_from(effects)) == 30
    finally:
        await r.close()


async def test_a_wait_given_a_connection_in_time_goes_on_with_it(
    engine: AsyncEngine, database_url: str
) -> None:
    r = Reader(database_url, size=1, acquire_timeout=2.0)
    try:
        held = r._acquire(await r._get_pool())
        await held.__aenter__()
        asyncio.get_running_loop().call_later(0.1, lambda: asyncio.ensure_future(held.__aexit__()))
        assert await r.scalar(select(func.count()).select_from(effects)) == 30
    finally:
        await r.close()


async def test_readers_waiting_for_a_connection_are_served_in_the_order_they_came(
    engine: AsyncEngine, database_url: str
) -> None:
    """A request that arrives just as a connection comes back waits behind those already
    waiting (asyncpg's own wait would hand it the connection first)."""
    r = Reader(database_url, size=1, acquire_timeout=5.0)
    order: list[str] = []

    async def read(name: str) -> None:
        async with r._acquire(await r._get_pool()):
            order.append(name)
            await asyncio.sleep(0.01)

    try:
        held = r._acquire(await r._get_pool())
        await held.__aenter__()
        waiting = [asyncio.create_task(read(n)) for n in ("first", "second")]
        await asyncio.sleep(0.05)
        assert r.waiting == 2
        # The connection comes back while a newcomer is already on its way: it arrives after
        # the connection is back and before the first waiter has run.
        back = asyncio.ensure_future(held.__aexit__())
        await asyncio.sleep(0)
        newcomer = asyncio.create_task(read("newcomer"))
        await asyncio.gather(back, newcomer, *waiting)
        assert order == ["first", "second", "newcomer"]
        assert r.waiting == 0
    finally:
        await r.close()


async def test_a_bounded_wait_passes_on_a_cancellation_from_elsewhere() -> None:
    waiting = asyncio.Event()

    async def forever() -> None:
        waiting.set()
        await asyncio.Event().wait()

    task = asyncio.ensure_future(reads.within(forever(), 5.0))
    await waiting.wait()
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert task.cancelled()


async def test_a_bounded_wait_returns_what_it_waited_for() -> None:
    async def soon() -> int:
        await asyncio.sleep(0.01)
        return 7

    assert await reads.within(soon(), 1.0) == 7


@pytest.fixture(autouse=True)
def _fresh_cache() -> None:
    # each test compiles its own statements: the cache is exercised, never carried over
    reads._compiled.clear()
