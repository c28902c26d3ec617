"""The outbox is written with the change and the relay publishes every row, at least once."""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import signal
import sys
import textwrap
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import asyncpg
import pytest
from sqlalchemy import func, insert, select, text
from sqlalchemy.ext.asyncio import AsyncEngine

from shared.tests.kit_fixtures import Pinged, effects, tables
from yanxiu.contracts.envelope import Envelope
from yanxiu.devstack.broker import TansuBroker
from yanxiu.kit.broker import ensure_topics, make_producer
from yanxiu.kit.db import make_session_factory, plain_url
from yanxiu.kit.outbox import Outbox
from yanxiu.kit.relay import OutboxRelay, replay_outbox
from yanxiu.kit.settings import KitSettings
from yanxiu.testing import eventually, read_topic

outbox = Outbox(tables["outbox"], producer="kittest")


@pytest.fixture
def settings(settings_for: Callable[..., KitSettings]) -> KitSettings:
    return settings_for(KitSettings, service_name="kittest")


async def record(engine: AsyncEngine, events: list[Pinged]) -> None:
    async with make_session_factory(engine)() as session, session.begin():
        for start in range(0, len(events), 1000):
            await outbox.add(session, *events[start : start + 1000])


async def unpublished(engine: AsyncEngine) -> int:
    async with engine.connect() as conn:
        return int(
            await conn.scalar(
                select(func.count())
                .select_from(tables["outbox"])
                .where(tables["outbox"].c.published_at.is_(None))
            )
            or 0
        )


async def test_rolled_back_change_publishes_nothing(engine: AsyncEngine) -> None:
    factory = make_session_factory(engine)
    with pytest.raises(RuntimeError):
        async with factory() as session, session.begin():
            await session.execute(insert(effects).values(key="k", count=1))
            await outbox.add(session, Pinged(subject="s", seq=1))
            raise RuntimeError("the change fails after recording its event")
    async with engine.connect() as conn:
        assert await conn.scalar(select(func.count()).select_from(tables["outbox"])) == 0
        assert await conn.scalar(select(func.count()).select_from(effects)) == 0


async def test_relay_publishes_rows_in_commit_order_per_key(
    engine: AsyncEngine, settings: KitSettings, broker: str
) -> None:
    topic = settings.topic(Pinged.TOPIC)
    await ensure_topics(settings, [topic], partitions=3)
    events = [Pinged(subject=f"teacher-{i % 7}", seq=i) for i in range(300)]
    await record(engine, events)
    producer = make_producer(settings)
    await producer.start()
    relay = OutboxRelay(
        engine=engine, producer=producer, schema="kittest", settings=settings, batch_size=64
    )
    task = asyncio.create_task(relay.run())
    try:
        await eventually(lambda: _zero(engine), timeout=20)
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
        await producer.stop()
    records = await read_topic(broker, topic, expect=300)
    seqs_by_key: dict[str, list[int]] = {}
    for r in records:
        env = Envelope.model_validate_json(r.value or b"")
        assert r.key is not None and r.key.decode() == env.key
        seqs_by_key.setdefault(env.key, []).append(env.data["seq"])
    assert sum(len(v) for v in seqs_by_key.values()) == 300
    for seqs in seqs_by_key.values():
        assert seqs == sorted(seqs)


async def _zero(engine: AsyncEngine) -> bool:
    return await unpublished(engine) == 0


RELAY_SCRIPT = textwrap.dedent("""
    import asyncio, json, sys
    from yanxiu.kit.broker import make_producer
    from yanxiu.kit.db import make_engine
    from yanxiu.kit.relay import OutboxRelay
    from yanxiu.kit.settings import KitSettings

    async def main():
        settings = KitSettings.model_validate(json.loads(sys.argv[1]))
        engine = make_engine(settings.database_url, pool_size=2)
        producer = make_producer(settings)
        await producer.start()
        relay = OutboxRelay(engine=engine, producer=producer, schema="kittest",
                            settings=settings, batch_size=int(sys.argv[2]))
        await relay.run()

    asyncio.run(main())
""")


async def test_relay_killed_mid_batch_and_restarted_publishes_every_row(
    engine: AsyncEngine, settings: KitSettings, broker: str
) -> None:
    total = 20_000
    topic = settings.topic(Pinged.TOPIC)
    await ensure_topics(settings, [topic], partitions=3)
    await record(engine, [Pinged(subject=f"teacher-{i % 50}", seq=i) for i in range(total)])
    conf = json.dumps(
        {
            "database_url": settings.database_url,
            "kafka_bootstrap_servers": broker,
            "kafka_topic_prefix": settings.kafka_topic_prefix,
        }
    )
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        "-c",
        RELAY_SCRIPT,
        conf,
        "200",
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )
    try:
        # Kill the relay process outright (no cleanup) once it is part-way through.
        await eventually(lambda: _some_published(engine, total), timeout=30, interval=0.01)
        proc.send_signal(signal.SIGKILL)
        await asyncio.wait_for(proc.wait(), 10)
    finally:
        if proc.returncode is None:
            proc.kill()
    left = await unpublished(engine)
    assert 0 < left < total, "the relay was not killed mid-way"
    # A fresh relay takes over and finishes.
    await run_relay_until_drained(engine, settings)
    records = await read_topic(broker, topic, expect=total, timeout=30)
    seen = {Envelope.model_validate_json(r.value or b"").data["seq"] for r in records}
    assert seen == set(range(total)), f"lost: {sorted(set(range(total)) - seen)[:10]}"


async def _some_published(engine: AsyncEngine, total: int) -> bool:
    left = await unpublished(engine)
    return 0 < left < total - 1000


async def test_relay_wakes_on_notify_without_waiting_for_the_poll(
    engine: AsyncEngine, settings: KitSettings, broker: str
) -> None:
    topic = settings.topic(Pinged.TOPIC)
    await ensure_topics(settings, [topic], partitions=1)
    producer = make_producer(settings)
    await producer.start()
    relay = OutboxRelay(
        engine=engine, producer=producer, schema="kittest", settings=settings, poll_interval=30.0
    )
    task = asyncio.create_task(relay.run())
    try:
        await asyncio.sleep(0.5)
        await record(engine, [Pinged(subject="x", seq=1)])
        # With a 30 s poll, only the NOTIFY can make this quick.
        await eventually(lambda: _zero(engine), timeout=5)
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
        await producer.stop()


async def test_events_lost_by_a_broker_restart_are_re_sent_by_outbox_replay(
    engine: AsyncEngine, settings_for: Callable[..., KitSettings]
) -> None:
    broker = TansuBroker()
    bootstrap = broker.start()
    settings = settings_for(KitSettings, kafka_bootstrap_servers=bootstrap)
    topic = settings.topic(Pinged.TOPIC)
    since = datetime.now(UTC) - timedelta(seconds=5)
    try:
        await ensure_topics(settings, [topic], partitions=2)
        await record(engine, [Pinged(subject=f"s{i % 5}", seq=i) for i in range(100)])
        await run_relay_until_drained(engine, settings)
        assert len(await read_topic(bootstrap, topic, expect=100)) == 100
        broker.stop()  # the in-memory broker forgets every message
        broker.start()
        await ensure_topics(settings, [topic], partitions=2)
        assert await read_topic(bootstrap, topic, expect=1, timeout=2) == []
        assert await replay_outbox(engine, "kittest", since=since) == 100
        await run_relay_until_drained(engine, settings)
        records = await read_topic(bootstrap, topic, expect=100)
        assert sorted(
            Envelope.model_validate_json(r.value or b"").data["seq"] for r in records
        ) == list(range(100))
    finally:
        broker.stop()


async def run_relay_until_drained(engine: AsyncEngine, settings: KitSettings) -> None:
    producer = make_producer(settings)
    await producer.start()
    relay = OutboxRelay(engine=engine, producer=producer, schema="kittest", settings=settings)
    task = asyncio.create_task(relay.run())
    try:
        await eventually(lambda: _zero(engine), timeout=20)
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
        await producer.stop()


async def _in_transaction(engine: AsyncEngine) -> int:
    """Connections of this database left inside a transaction by anyone but the asker."""
    async with engine.connect() as conn:
        return int(
            await conn.scalar(
                text(
                    "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
                    "AND pid <> pg_backend_pid() AND state LIKE 'idle in transaction%'"
                )
            )
            or 0
        )


async def _queued(engine: AsyncEngine, settings: KitSettings, subject: str, n: int) -> str:
    """n events of one subject waiting in the outbox; their topic."""
    topic = settings.topic(Pinged.TOPIC)
    await ensure_topics(settings, [topic], partitions=1)
    await record(engine, [Pinged(subject=subject, seq=i) for i in range(n)])
    return topic


async def test_a_batch_the_broker_refuses_stays_queued_and_leaves_its_connection_clean(
    engine: AsyncEngine, settings: KitSettings, broker: str
) -> None:
    topic = await _queued(engine, settings, "teacher-1", 5)
    stopped = make_producer(settings)
    await stopped.start()
    await stopped.stop()
    refused = OutboxRelay(engine=engine, producer=stopped, schema="kittest", settings=settings)
    with pytest.raises(Exception):  # noqa: B017 - whatever the client raises once stopped
        await refused.publish_batch()
    assert await unpublished(engine) == 5
    assert await _in_transaction(engine) == 0
    producer = make_producer(settings)
    await producer.start()
    try:
        relay = OutboxRelay(engine=engine, producer=producer, schema="kittest", settings=settings)
        assert await relay.publish_batch() == 5
    finally:
        await producer.stop()
    assert await unpublished(engine) == 0
    assert len(await read_topic(broker, topic, expect=5)) == 5


async def test_a_batch_whose_connection_was_cut_is_sent_on_a_new_one(
    engine: AsyncEngine, settings: KitSettings, broker: str
) -> None:
    await _queued(engine, settings, "teacher-2", 3)
    producer = make_producer(settings)
    await producer.start()
    try:
        relay = OutboxRelay(engine=engine, producer=producer, schema="kittest", settings=settings)
        # Every pooled connection of the database is cut, as by a restart of the server.
        async with engine.connect() as conn:
            await conn.execute(text("SELECT 1"))
        cutter = await asyncpg.connect(plain_url(settings.database_url))
        try:
            await cutter.execute(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                "WHERE datname = current_database() AND pid <> pg_backend_pid()"
            )
        finally:
            await cutter.close()
        sent = 0
        for _ in range(3):  # a cut connection fails its batch once, then leaves the pool
            with contextlib.suppress(Exception):
                sent += await relay.publish_batch()
            if sent:
                break
        assert sent == 3
    finally:
        await producer.stop()
    assert await unpublished(engine) == 0
