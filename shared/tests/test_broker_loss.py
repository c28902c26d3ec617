"""A broker that forgot what it acknowledged (issue #13, point 2): the relay finds out on its own,
sends everything lost again, and every event still has exactly one effect.

Each test runs its own Tansu broker (in memory, like the one `make run` starts) and kills it with
SIGKILL, then starts it again on the same port, empty: the shared session broker is left alone.
The service is the kit's real runtime, served on a real port: relay, consumer, /readyz."""

from __future__ import annotations

import asyncio
import os
import signal
import sys
import textwrap
import time
from collections.abc import Callable, Iterator

import httpx
import pytest
from fastapi import APIRouter, Request
from prometheus_client import REGISTRY
from pydantic import BaseModel
from sqlalchemy import func, select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from shared.tests.kit_fixtures import Pinged, effects, metadata, runner_of, tables
from yanxiu.contracts.envelope import Envelope
from yanxiu.devstack.broker import TansuBroker
from yanxiu.kit.app import ServiceSpec, create_service_app
from yanxiu.kit.broker import ensure_topics, make_producer, recreate_topics
from yanxiu.kit.broker_probe import BrokerProbe
from yanxiu.kit.consumer import Subscriber
from yanxiu.kit.db import make_session_factory
from yanxiu.kit.deps import Session, runtime
from yanxiu.kit.outbox import Outbox
from yanxiu.kit.readiness import fully_ready
from yanxiu.kit.relay import OutboxRelay
from yanxiu.kit.settings import KitSettings
from yanxiu.testing import eventually, free_port, read_topic, served

outbox_table = tables["outbox"]


class PingIn(BaseModel):
    subject: str
    seq: int


def kittest_spec(settings: KitSettings) -> ServiceSpec:
    """A service as the real ones are made: a write route that records an event, the relay,
    and a consumer whose effect is counted per event (its subject)."""
    router = APIRouter()

    @router.post("/pings", status_code=201)
    async def ping(body: PingIn, session: Session, request: Request) -> dict[str, str]:
        await runtime(request).outbox.add(session, Pinged(subject=body.subject, seq=body.seq))
        return {"subject": body.subject}

    counter = Subscriber(group="kittest.counter", topics=[Pinged.TOPIC])

    @counter.handler
    async def on_pinged(session: AsyncSession, event: Pinged) -> None:
        stmt = insert(effects).values(key=event.subject, count=1)
        await session.execute(
            stmt.on_conflict_do_update(
                index_elements=[effects.c.key], set_={"count": effects.c.count + 1}
            )
        )

    return ServiceSpec(
        name="kittest",
        metadata=metadata,
        routers=[router],
        settings_factory=lambda: settings,
        subscribers=[counter],
        produces=[Pinged.TOPIC],
    )


@pytest.fixture
def own_broker() -> Iterator[TansuBroker]:
    broker = TansuBroker(port=free_port())
    broker.start()
    try:
        yield broker
    finally:
        broker.stop()


async def crash_and_restart(broker: TansuBroker, down: float) -> None:
    """SIGKILL, then the same port again: an empty broker, as after a crash or a redeploy.
    Started again from the event loop's thread: a guarded child ends with the thread that
    started it (yanxiu.devstack.lifeline)."""
    assert broker.proc is not None
    broker.proc.send_signal(signal.SIGKILL)
    broker.proc.wait(10)
    await asyncio.sleep(down)
    broker.start()


def loss_settings(
    settings_for: Callable[..., KitSettings], broker: TansuBroker, **extra: object
) -> KitSettings:
    return settings_for(
        KitSettings,
        service_name="kittest",
        kafka_bootstrap_servers=broker.bootstrap,
        kafka_partitions=3,
        relay_check_interval_seconds=2.0,
        relay_max_unpublished_age_seconds=10.0,
        **extra,
    )


async def effect_counts(engine: AsyncEngine) -> dict[str, int]:
    async with engine.connect() as conn:
        return {k: c for k, c in (await conn.execute(select(effects.c.key, effects.c.count)))}


async def outbox_subjects(engine: AsyncEngine) -> list[str]:
    async with engine.connect() as conn:
        payloads = (await conn.execute(select(outbox_table.c.payload))).scalars().all()
    return [Envelope.model_validate_json(p).data["subject"] for p in payloads]


async def unpublished(engine: AsyncEngine) -> int:
    async with engine.connect() as conn:
        return int(
            await conn.scalar(
                select(func.count())
                .select_from(outbox_table)
                .where(outbox_table.c.published_at.is_(None))
            )
            or 0
        )


def resets() -> float:
    return (
        REGISTRY.get_sample_value("yanxiu_relay_broker_resets_total", {"schema": "kittest"}) or 0.0
    )


async def every_event_handled(engine: AsyncEngine, expected: set[str]) -> bool:
    counts = await effect_counts(engine)
    return set(counts) >= expected


@pytest.mark.parametrize(
    ("down", "mid_write"),
    [(0.5, True), (6.0, True), (0.5, False)],
    ids=["brief-outage", "long-outage", "while-idle"],
)
async def test_broker_restarted_mid_stream_loses_no_event_doubles_no_effect_and_stays_ready(
    engine: AsyncEngine,
    settings_for: Callable[..., KitSettings],
    own_broker: TansuBroker,
    down: float,
    mid_write: bool,
) -> None:
    """Writes keep coming through the API while the broker is killed and comes back empty
    (`while-idle`: between two bursts, so only the relay's periodic check can notice). The
    service stays ready throughout (its outbox takes the writes): /readyz reports the broker
    and the events as degraded, with a 200."""
    settings = loss_settings(settings_for, own_broker)
    app = create_service_app(kittest_spec(settings), settings)
    resets_before = resets()
    readiness: list[tuple[float, int, str, dict[str, str]]] = []
    acknowledged: list[str] = []
    async with served(app) as base, httpx.AsyncClient(base_url=base, timeout=10) as client:

        async def all_ok() -> bool:
            # Fully up, the broker and the events included: a 200 alone is only "serving".
            return fully_ready((await client.get("/readyz")).json())

        await eventually(all_ok, timeout=30)

        async def watch_readiness() -> None:
            while True:
                r = await client.get("/readyz")
                body = r.json()
                readiness.append((time.monotonic(), r.status_code, body["status"], body["checks"]))
                await asyncio.sleep(0.05)

        async def write(start: int, count: int) -> None:
            for i in range(start, start + count):
                subject = f"s{i:04d}"
                r = await client.post("/pings", json={"subject": subject, "seq": i})
                assert r.status_code == 201, r.text
                acknowledged.append(subject)
                await asyncio.sleep(0.01)

        watcher = asyncio.create_task(watch_readiness())
        try:
            await write(0, 150)
            # Part of it consumed already: the loss strikes consumed and unconsumed events.
            await eventually(lambda: _some_effects(engine, 50), timeout=30)
            crashed_at = time.monotonic()
            if mid_write:
                writing = asyncio.create_task(write(150, 150))
                await crash_and_restart(own_broker, down)
                await writing
            else:
                await eventually(lambda: _some_effects(engine, 150), timeout=30)
                await crash_and_restart(own_broker, down)
                await asyncio.sleep(2 * settings.relay_check_interval_seconds)
                await write(150, 150)
            await write(300, 50)
            await eventually(lambda: every_event_handled(engine, set(acknowledged)), timeout=90)
            await eventually(all_ok, timeout=30)
        finally:
            watcher.cancel()
            await asyncio.gather(watcher, return_exceptions=True)

    counts = await effect_counts(engine)
    assert set(counts) == set(acknowledged) == set(await outbox_subjects(engine))
    doubled = {k: c for k, c in counts.items() if c != 1}
    assert not doubled, f"effects applied more than once: {doubled}"
    assert await unpublished(engine) == 0
    assert resets() > resets_before, "the relay did not count the broker's loss"
    after = [(code, status, checks) for t, code, status, checks in readiness if t > crashed_at]
    # Never unready for the broker's sake: a 503 could only be the database's (under this
    # machine's load its check may time out), never with the database check ok.
    unready = [(code, checks) for code, _, checks in after if code != 200]
    assert all(checks["database"] != "ok" for _, checks in unready), unready
    assert any(status == "degraded" for _, status, _ in after), "the loss was never reported"
    if mid_write:
        # Reported for the events themselves, not only for the broker being away.
        assert any(checks.get("events", "ok") != "ok" for _, _, checks in after), after
    assert after[-1][:2] == (200, "ok")


async def _some_effects(engine: AsyncEngine, n: int) -> bool:
    return len(await effect_counts(engine)) >= n


RELAY_PROCESS = textwrap.dedent("""
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
                            settings=settings, topics=["kittest.events.v1"])
        await relay.run()

    asyncio.run(main())
""")


async def start_relay_process(settings: KitSettings) -> asyncio.subprocess.Process:
    conf = settings.model_dump_json(
        include={
            "database_url",
            "kafka_bootstrap_servers",
            "kafka_topic_prefix",
            "kafka_partitions",
            "relay_check_interval_seconds",
            "service_name",
        }
    )
    return await asyncio.create_subprocess_exec(
        sys.executable,
        "-c",
        RELAY_PROCESS,
        conf,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )


async def kill(proc: asyncio.subprocess.Process) -> None:
    if proc.returncode is None:
        proc.send_signal(signal.SIGKILL)
        await asyncio.wait_for(proc.wait(), 10)


async def record(engine: AsyncEngine, first: int, count: int) -> None:
    outbox = Outbox(outbox_table, producer="kittest")
    async with make_session_factory(engine)() as session, session.begin():
        await outbox.add(
            session, *(Pinged(subject=f"s{i:04d}", seq=i) for i in range(first, first + count))
        )


async def test_relay_restarted_after_the_broker_loss_sends_the_lost_events_again(
    engine: AsyncEngine,
    settings_for: Callable[..., KitSettings],
    own_broker: TansuBroker,
) -> None:
    """The relay process dies with the broker (a host reboot) and starts again on an empty
    broker: what it knows of the loss is only what the outbox recorded. The consumer was down
    all along (another service, still deploying), so it needs every event from the broker."""
    settings = loss_settings(settings_for, own_broker)
    topic = settings.topic(Pinged.TOPIC)
    await ensure_topics(settings, [topic], partitions=3)
    relay = await start_relay_process(settings)
    try:
        await record(engine, 0, 200)
        await eventually(lambda: _none_unpublished(engine), timeout=30)
        assert len(await read_topic(own_broker.bootstrap, topic, expect=200)) == 200
        await kill(relay)
        await crash_and_restart(own_broker, 0.5)
        # Another client creates the topic again before the relay is back (the broker's own
        # partition count, nothing in it), and new events wait in the outbox meanwhile.
        await ensure_topics(settings, [topic], partitions=4)
        await record(engine, 200, 20)
        relay = await start_relay_process(settings)
        records = await read_topic(own_broker.bootstrap, topic, expect=220, timeout=60)
    finally:
        await kill(relay)
    seqs = sorted(Envelope.model_validate_json(r.value or b"").data["seq"] for r in records)
    assert seqs == list(range(220)), f"missing: {sorted(set(range(220)) - set(seqs))[:10]}"
    # Re-created at the partition count the service asks for, not the broker's default.
    probe = BrokerProbe(settings)
    try:
        assert (await probe.view([topic])).partitions == {topic: 3}
    finally:
        await probe.close()


async def _none_unpublished(engine: AsyncEngine) -> bool:
    return await unpublished(engine) == 0


async def test_a_truncated_partition_is_sent_again_from_where_it_ends_only(
    engine: AsyncEngine,
    settings_for: Callable[..., KitSettings],
    own_broker: TansuBroker,
) -> None:
    """An unclean leader election on Kafka leaves a partition's log shorter than what was
    acknowledged, the records before its end intact: only the lost tail goes again."""
    settings = loss_settings(settings_for, own_broker)
    topic = settings.topic(Pinged.TOPIC)
    await ensure_topics(settings, [topic], partitions=3)
    await record(engine, 0, 90)
    producer = make_producer(settings)
    await producer.start()
    relay = OutboxRelay(
        engine=engine, producer=producer, schema="kittest", settings=settings, topics=[Pinged.TOPIC]
    )
    try:
        assert not await relay.check_broker()
        while await relay.publish_batch():
            pass
        by_partition = await read_partitions(own_broker.bootstrap, topic, expect=90)
        # Truncate partition 0 to its first 10 records; the others stay whole.
        kept = {p: records if p else records[:10] for p, records in by_partition.items()}
        await recreate_topics(settings, {topic: 3})
        for p, records in sorted(kept.items()):
            for value in records:
                await producer.send_and_wait(topic, value, partition=p)
        lost = len(by_partition[0]) - 10
        loss = await relay.check_broker()
        assert loss.tails == {(Pinged.TOPIC, 0): 10} and not loss.topics
        assert await unpublished(engine) == lost
        while await relay.publish_batch():
            pass
        again = await read_partitions(own_broker.bootstrap, topic, expect=90)
        assert again == by_partition
        assert not await relay.check_broker()
    finally:
        await relay.probe.close()
        await producer.stop()


async def read_partitions(bootstrap: str, topic: str, *, expect: int) -> dict[int, list[bytes]]:
    out: dict[int, list[bytes]] = {}
    for r in sorted(
        await read_topic(bootstrap, topic, expect=expect), key=lambda r: (r.partition, r.offset)
    ):
        out.setdefault(r.partition, []).append(r.value or b"")
    return out


async def test_consumer_reads_again_from_the_start_when_the_broker_forgot_its_offsets(
    engine: AsyncEngine,
    settings_for: Callable[..., KitSettings],
    own_broker: TansuBroker,
) -> None:
    """The relay replaced a lost topic with an empty one of the same size while the consumer
    stayed in its group: its positions point past what the new log holds at first, and the
    broker dropped the offsets it had committed. It must not skip the start of the new log."""
    settings = loss_settings(settings_for, own_broker)
    topic = settings.topic(Pinged.TOPIC)
    await ensure_topics(settings, [topic, settings.topic("kittest.dlq.v1")], partitions=3)
    producer = make_producer(settings)
    await producer.start()
    spec = kittest_spec(settings)
    runner = runner_of(spec.subscribers[0], engine, settings, producer)
    rewinds = {"consumer": "kittest.counter"}
    rewound_before = REGISTRY.get_sample_value("yanxiu_consumer_rewinds_total", rewinds) or 0.0
    task = asyncio.create_task(runner.run())

    async def send(first: int, count: int) -> None:
        for i in range(first, first + count):
            env = Pinged(subject=f"s{i:04d}", seq=i).envelope(producer="kittest", trace_id="t")
            await producer.send_and_wait(
                topic, env.model_dump_json().encode(), key=env.key.encode()
            )

    try:
        await send(0, 30)
        await eventually(lambda: _some_effects(engine, 30), timeout=30)
        await asyncio.sleep(1.0)  # its offsets committed
        await recreate_topics(settings, {topic: 3})
        await send(30, 90)
        expected = {f"s{i:04d}" for i in range(120)}
        await eventually(lambda: every_event_handled(engine, expected), timeout=30)
    finally:
        task.cancel()
        stopped, _ = await asyncio.wait({task}, timeout=20)
        await producer.stop()
    assert stopped, "the consumer runner did not stop when cancelled"
    counts = await effect_counts(engine)
    assert {k for k, c in counts.items() if c != 1} == set()
    assert (REGISTRY.get_sample_value("yanxiu_consumer_rewinds_total", rewinds) or 0) > (
        rewound_before
    )
