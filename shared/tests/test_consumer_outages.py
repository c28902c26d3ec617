"""Transient is not poison: the consumer runner against a database that goes away mid-stream
(a PostgreSQL server of the test's own, stopped and started), a lock it cannot get, and a
dead-letter broker that is down. Nothing valid is dead-lettered, every event has one effect,
a poison message still goes to the DLQ and the partition goes on."""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import AsyncIterator, Callable
from datetime import UTC, datetime

import pytest
import pytest_asyncio
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition
from sqlalchemy import select, text
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from shared.tests.kit_fixtures import Pinged, effects, runner_of
from shared.tests.outage_fixtures import outage_db, private_pg
from yanxiu.devstack.broker import TansuBroker
from yanxiu.devstack.private_postgres import PrivateServer
from yanxiu.kit.broker import ensure_topics, make_producer
from yanxiu.kit.consumer import ConsumerRunner, Subscriber
from yanxiu.kit.db import make_engine
from yanxiu.kit.metrics import CONSUMER_RETRIES, EVENTS_HANDLED
from yanxiu.kit.settings import KitSettings
from yanxiu.testing import eventually, read_topic

DLQ = "kittest.dlq.v1"
__all__ = ["outage_db", "private_pg"]  # fixtures: pytest finds them here


@pytest.fixture
def settings(settings_for: Callable[..., KitSettings], outage_db: str) -> KitSettings:
    return settings_for(KitSettings, service_name="kittest", database_url=outage_db)


@pytest_asyncio.fixture
async def engine(settings: KitSettings) -> AsyncIterator[AsyncEngine]:
    eng = make_engine(settings.database_url, pool_size=5)
    yield eng
    await eng.dispose()


@pytest_asyncio.fixture
async def producer(settings: KitSettings) -> AsyncIterator[AIOKafkaProducer]:
    await ensure_topics(settings, [settings.topic(Pinged.TOPIC), settings.topic(DLQ)], partitions=2)
    p = make_producer(settings)
    await p.start()
    yield p
    await p.stop()


def subscriber() -> Subscriber:
    sub = Subscriber(group=f"kittest.{uuid.uuid4().hex[:6]}", topics=[Pinged.TOPIC])

    @sub.handler
    async def on_pinged(session: AsyncSession, event: Pinged) -> None:
        if event.subject.startswith("fail-always"):
            raise RuntimeError("a rule that will not change")
        if event.subject.startswith("locked"):
            # Gives up on a lock at once instead of queueing behind it: 55P03, a conflict.
            await session.execute(text("SET LOCAL lock_timeout = '50ms'"))
            await session.execute(text("LOCK TABLE kittest.effects IN EXCLUSIVE MODE"))
        stmt = insert(effects).values(key=event.subject, count=1)
        await session.execute(
            stmt.on_conflict_do_update(
                index_elements=[effects.c.key], set_={"count": effects.c.count + 1}
            )
        )

    return sub


@pytest_asyncio.fixture
async def running(
    engine: AsyncEngine, settings: KitSettings, producer: AIOKafkaProducer
) -> AsyncIterator[ConsumerRunner]:
    runner = runner_of(subscriber(), engine, settings, producer, base_backoff=0.05, max_backoff=1.0)
    task = asyncio.create_task(runner.run())
    yield runner
    task.cancel()
    await asyncio.gather(task, return_exceptions=True)


def message(subject: str, seq: int) -> bytes:
    env = Pinged(subject=subject, seq=seq).envelope(
        producer="kittest", trace_id="t", occurred_at=datetime.now(UTC)
    )
    return env.model_dump_json().encode()


async def counts(engine: AsyncEngine) -> dict[str, int]:
    async with engine.connect() as conn:
        rows = (await conn.execute(select(effects.c.key, effects.c.count))).all()
    return {key: count for key, count in rows}


def metric(counter: object, *labels: str) -> float:
    return float(counter.labels(*labels)._value.get())  # type: ignore[attr-defined]


async def lag(settings: KitSettings, runner: ConsumerRunner, broker: str) -> int:
    """Messages in the topic past the group's committed offsets, read by a fresh client."""
    topic = settings.topic(Pinged.TOPIC)
    probe = AIOKafkaConsumer(
        bootstrap_servers=broker,
        group_id=settings.topic(runner.subscriber.group),
        enable_auto_commit=False,
    )
    await probe.start()
    try:
        tps = [TopicPartition(topic, p) for p in range(2)]
        ends = await probe.end_offsets(tps)
        total = 0
        for tp in tps:
            total += ends[tp] - ((await probe.committed(tp)) or 0)
        return total
    finally:
        await probe.stop()


# fast: the server closes every connection and refuses new ones; immediate: it crashes (and
# recovers from its WAL on the next start).
@pytest.mark.parametrize("how", ["fast", "immediate"])
async def test_database_stopped_mid_stream_dead_letters_nothing_and_handles_each_event_once(
    how: str,
    private_pg: PrivateServer,
    engine: AsyncEngine,
    settings: KitSettings,
    producer: AIOKafkaProducer,
    running: ConsumerRunner,
    broker: str,
) -> None:
    topic = settings.topic(Pinged.TOPIC)
    group = running.subscriber.group
    total = 240

    async def stream() -> None:
        """A steady stream across both partitions (about 12 s), with one unparseable message
        and one that its handler refuses for good in the middle of the outage."""
        for i in range(total):
            await producer.send_and_wait(topic, message(f"e{i}", i), key=f"k{i % 7}".encode())
            if i == 100:
                await producer.send_and_wait(topic, b"{not json", key=b"k1")
                await producer.send_and_wait(topic, message("fail-always", i), key=b"k2")
            await asyncio.sleep(0.05)

    sending = asyncio.create_task(stream())
    await eventually(lambda: _at_least(engine, 20))
    await asyncio.to_thread(private_pg.stop, how)
    stopped = time.monotonic()
    await asyncio.sleep(15)
    await asyncio.to_thread(private_pg.start)
    outage = time.monotonic() - stopped
    await sending

    await eventually(lambda: _at_least(engine, total), timeout=60)
    await asyncio.sleep(1.0)  # anything handled twice would show by now
    seen = await counts(engine)
    assert {k: v for k, v in seen.items() if v != 1} == {}, "an event had two effects"
    assert set(seen) == {f"e{i}" for i in range(total)}
    dead = await read_topic(broker, settings.topic(DLQ), expect=3, timeout=5)
    parked = [r.value or b"" for r in dead]
    assert len(parked) == 2, "only the two messages that can never succeed are parked"
    assert b"{not json" in parked
    assert [b'"fail-always"' in value for value in parked].count(True) == 1
    assert metric(CONSUMER_RETRIES, group, "unavailable") > 0
    # Each under the type it carried; the unparseable one has none to say.
    assert metric(EVENTS_HANDLED, group, "unknown", "dead_lettered") == 1
    assert metric(EVENTS_HANDLED, group, Pinged.TYPE, "dead_lettered") == 1
    assert await eventually(lambda: _zero_lag(settings, running, broker), timeout=20)
    assert outage >= 15


async def _at_least(engine: AsyncEngine, n: int) -> bool:
    try:
        return len([k for k in await counts(engine) if k.startswith("e")]) >= n
    except Exception:  # the database is the one away
        return False


async def _zero_lag(settings: KitSettings, runner: ConsumerRunner, broker: str) -> bool:
    return await lag(settings, runner, broker) == 0


async def test_event_blocked_by_a_lock_waits_for_it_instead_of_being_dead_lettered(
    engine: AsyncEngine,
    settings: KitSettings,
    producer: AIOKafkaProducer,
    running: ConsumerRunner,
    broker: str,
) -> None:
    topic = settings.topic(Pinged.TOPIC)
    async with engine.connect() as holder:
        await holder.execute(text("LOCK TABLE kittest.effects IN EXCLUSIVE MODE"))
        await producer.send_and_wait(topic, message("locked-1", 1), key=b"k")
        await producer.send_and_wait(topic, message("after-lock", 2), key=b"k")
        # Far longer than the ~0.75 s that four attempts used to take before parking it.
        await asyncio.sleep(3)
        await holder.rollback()
    assert await eventually(lambda: _count(engine, "after-lock")) == 1
    assert await _count(engine, "locked-1") == 1
    assert metric(CONSUMER_RETRIES, running.subscriber.group, "conflict") > 0
    assert await read_topic(broker, settings.topic(DLQ), expect=1, timeout=2) == []


async def _count(engine: AsyncEngine, key: str) -> int:
    async with engine.connect() as conn:
        return int(await conn.scalar(select(effects.c.count).where(effects.c.key == key)) or 0)


async def test_dead_letter_is_parked_once_the_broker_is_back_and_only_then_the_partition_goes_on(
    engine: AsyncEngine, settings: KitSettings, producer: AIOKafkaProducer, broker: str
) -> None:
    """The DLQ producer talks to a broker of the test's own, down when the poison arrives:
    the message after it waits until the poison is parked, and its offset is not committed
    meanwhile. (That broker is the in-memory one and comes back empty; a send in flight across
    its restart would be acknowledged into nothing, which is issue #13's broker-loss part, so
    the outage here outlasts a send.)"""
    dlq_broker = TansuBroker()
    await asyncio.to_thread(dlq_broker.start)
    dlq_settings = settings.model_copy(update={"kafka_bootstrap_servers": dlq_broker.bootstrap})
    await ensure_topics(dlq_settings, [dlq_settings.topic(DLQ)], partitions=1)
    dlq_producer = make_producer(dlq_settings)
    await dlq_producer.start()
    runner = runner_of(
        subscriber(), engine, settings, dlq_producer, base_backoff=0.05, max_backoff=1.0
    )
    task = asyncio.create_task(runner.run())
    topic = settings.topic(Pinged.TOPIC)
    try:
        await producer.send_and_wait(topic, message("before", 1), key=b"k")
        assert await eventually(lambda: _count(engine, "before")) == 1
        await asyncio.to_thread(dlq_broker.stop)
        await producer.send_and_wait(topic, b"poison", key=b"k")
        await producer.send_and_wait(topic, message("after-poison", 2), key=b"k")
        await asyncio.sleep(4)
        assert await _count(engine, "after-poison") == 0, "went on before parking the poison"
        assert await lag(settings, runner, broker) == 2, "committed past an unparked message"
        # Down for longer than a send may take (10 s), so the parking fails and is retried.
        await asyncio.sleep(9)
        assert metric(CONSUMER_RETRIES, runner.subscriber.group, "unavailable") > 0
        await asyncio.to_thread(dlq_broker.start)
        assert await eventually(lambda: _count(engine, "after-poison"), timeout=60) == 1
        dead = await read_topic(dlq_broker.bootstrap, dlq_settings.topic(DLQ), expect=1)
        assert [r.value for r in dead] == [b"poison"]
        assert await eventually(lambda: _zero_lag(settings, runner, broker), timeout=20)
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
        await dlq_producer.stop()
        await asyncio.to_thread(dlq_broker.stop)
