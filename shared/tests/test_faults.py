"""Whose failure is it: the infrastructure's (wait, answer 503) or the work's own (dead-letter,
answer 500/4xx). Database errors here are the real ones PostgreSQL raises."""

from __future__ import annotations

from collections.abc import AsyncIterator

import asyncpg
import pytest
import pytest_asyncio
from aiokafka.errors import KafkaConnectionError, RequestTimedOutError
from sqlalchemy import exc as sa
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from yanxiu.kit.db import make_engine
from yanxiu.kit.errors import NotFound, ServiceUnavailable
from yanxiu.kit.faults import Backoff, Fault, classify


@pytest_asyncio.fixture
async def engine(database_url: str) -> AsyncIterator[AsyncEngine]:
    eng = make_engine(database_url, pool_size=3)
    async with eng.begin() as conn:
        await conn.execute(text("CREATE TABLE seats (n int)"))
    yield eng
    await eng.dispose()


async def failure_of(engine: AsyncEngine, *statements: str) -> BaseException:
    try:
        async with engine.begin() as conn:
            for sql in statements:
                await conn.execute(text(sql))
    except Exception as exc:
        return exc
    raise AssertionError(f"{statements!r} did not fail")


async def test_serialization_failure_is_a_conflict_to_retry(engine: AsyncEngine) -> None:
    """Write skew between two serializable transactions: PostgreSQL aborts one (40001)."""
    a, b = await engine.connect(), await engine.connect()
    try:
        for conn in (a, b):
            await conn.execute(text("BEGIN ISOLATION LEVEL SERIALIZABLE"))
            await conn.execute(text("SELECT count(*) FROM seats"))
            await conn.execute(text("INSERT INTO seats VALUES (1)"))
        await a.execute(text("COMMIT"))
        with pytest.raises(sa.DBAPIError) as lost:
            await b.execute(text("COMMIT"))
        assert classify(lost.value) is Fault.CONFLICT
    finally:
        await a.close()
        await b.close()


async def test_a_rule_or_a_bug_in_sql_is_the_works_own(engine: AsyncEngine) -> None:
    for sql in [
        "INSERT INTO seats VALUES ('not a number')",  # 22P02: bad data
        "SELECT * FROM no_such_table",  # 42P01: a bug or a missing migration
        "SELECT 1/0",  # 22012
    ]:
        assert classify(await failure_of(engine, sql)) is None, sql


async def test_statement_timeout_is_the_infrastructures(engine: AsyncEngine) -> None:
    failure = await failure_of(engine, "SET LOCAL statement_timeout = 10", "SELECT pg_sleep(1)")
    assert classify(failure) is Fault.UNAVAILABLE


@pytest.mark.parametrize(
    "exc",
    [
        ConnectionRefusedError(111, "Connect call failed"),
        ConnectionResetError(104, "Connection reset by peer"),
        TimeoutError(),
        OSError("Multiple exceptions: [Errno 111] Connect call failed"),
        sa.TimeoutError("QueuePool limit of size 10 overflow 10 reached"),
        KafkaConnectionError("no broker"),
        RequestTimedOutError(),
        ServiceUnavailable(),
        asyncpg.InternalClientError(
            "cannot switch to state 15; another operation (2) is in progress"
        ),
    ],
    ids=repr,
)
def test_unreachable_slow_or_saturated_infrastructure_is_unavailable(exc: Exception) -> None:
    assert classify(exc) is Fault.UNAVAILABLE


def test_an_infrastructure_error_wrapped_by_a_handler_is_still_the_infrastructures() -> None:
    try:
        try:
            raise ConnectionResetError(104, "reset")
        except OSError as inner:
            raise RuntimeError("could not record the credit") from inner
    except RuntimeError as outer:
        assert classify(outer) is Fault.UNAVAILABLE


@pytest.mark.parametrize(
    "exc",
    [
        ValueError("bad"),
        KeyError("x"),
        RuntimeError("a rule that will not change"),
        FileNotFoundError(2, "rules.yaml"),
        NotFound(),
    ],
    ids=repr,
)
def test_everything_else_is_the_works_own(exc: Exception) -> None:
    assert classify(exc) is None


def test_backoff_doubles_up_to_its_cap_and_survives_a_days_long_outage() -> None:
    backoff = Backoff(base=0.1, cap=5.0)
    delays = [backoff.next() for _ in range(100_000)]
    assert 0.05 <= delays[0] <= 0.1
    assert max(delays) <= 5.0
    assert min(delays[10:]) >= 2.5  # jitter keeps at least half of the cap
