"""What an on-call engineer reads off /metrics is right: requests by route template and status,
readiness, pool use and waits, consumer lag, and each event counted once under its outcome on
the batch path, dead letters under their event type; a W3C trace follows a request into its
events."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator, Callable
from datetime import UTC, datetime

import pytest
import pytest_asyncio
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition
from fastapi import APIRouter
from prometheus_client import REGISTRY
from sqlalchemy import select, text
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from shared.tests.kit_fixtures import Pinged, kittest_client, runner_of, tables
from yanxiu.contracts.envelope import Envelope
from yanxiu.kit.broker import ensure_topics, make_producer
from yanxiu.kit.consumer import Subscriber
from yanxiu.kit.consumer_watch import ConsumerWatch
from yanxiu.kit.context import trace_id_var
from yanxiu.kit.db import make_engine, make_session_factory
from yanxiu.kit.errors import Conflict
from yanxiu.kit.outbox import Outbox
from yanxiu.kit.pool_metrics import POOLS, watch_pools
from yanxiu.kit.reads import Reader
from yanxiu.kit.relay import OutboxRelay
from yanxiu.kit.settings import KitSettings
from yanxiu.kit.tracecontext import parse
from yanxiu.testing import eventually, read_topic

router = APIRouter()


@router.get("/kittest/things/{key}")
async def get_thing(key: str) -> dict[str, str]:
    if key == "taken":
        raise Conflict("已被占用", "taken")
    return {"key": key}


def sample(name: str, **labels: str) -> float:
    return REGISTRY.get_sample_value(name, labels) or 0.0


async def test_requests_are_counted_by_route_template_and_status(
    settings_for: Callable[..., KitSettings],
) -> None:
    route = "/kittest/things/{key}"
    ok = {"service": "kittest", "method": "GET", "route": route, "status": "200"}
    refused = {**ok, "status": "409"}
    before = {
        "ok": sample("yanxiu_http_requests_total", **ok),
        "refused": sample("yanxiu_http_requests_total", **refused),
        "timed": sample("yanxiu_http_request_duration_seconds_count", **refused),
    }
    async with kittest_client(settings_for, router) as http:
        for key in ("a", "b", "taken"):
            await http.get(f"/kittest/things/{key}")
        assert (await http.get("/readyz")).status_code == 200
        exported = (await http.get("/metrics")).text
    assert sample("yanxiu_http_requests_total", **ok) - before["ok"] == 2
    assert sample("yanxiu_http_requests_total", **refused) - before["refused"] == 1
    assert sample("yanxiu_http_request_duration_seconds_count", **refused) - before["timed"] == 1
    assert sample("yanxiu_ready", service="kittest") == 1.0
    # The path itself never becomes a label (one series per template, whatever the keys).
    assert "/kittest/things/a" not in exported
    assert 'yanxiu_db_pool_connections{pool="orm",service="kittest",state="idle"}' in exported


async def test_a_request_waiting_for_a_pooled_connection_is_counted_while_it_waits(
    database_url: str,
) -> None:
    engine = make_engine(database_url, pool_size=1, pool_timeout=10)
    reader = Reader(database_url, size=1, acquire_timeout=10)
    service = f"pooltest{uuid.uuid4().hex[:6]}"
    watch_pools(service, engine, reader)

    def gauge(pool: str) -> tuple[float, float]:
        values = {
            (s.name, s.labels.get("state")): s.value
            for f in POOLS.collect()
            for s in f.samples
            if s.labels.get("service") == service and s.labels.get("pool") == pool
        }
        return values[("yanxiu_db_pool_connections", "in_use")], values[
            ("yanxiu_db_pool_waiting", None)
        ]

    try:
        async with engine.connect() as held:
            await held.execute(text("SELECT 1"))
            assert gauge("orm") == (1, 0)

            async def second() -> None:
                async with engine.connect() as conn:
                    await conn.execute(text("SELECT 1"))

            waiting = asyncio.create_task(second())
            await eventually(lambda: _is(gauge("orm")[1], 1), timeout=5)
        await waiting
        assert gauge("orm")[1] == 0

        release = asyncio.Event()

        async def hold_reader() -> None:
            async with reader._acquire(await reader._get_pool()):
                await release.wait()

        holder = asyncio.create_task(hold_reader())
        await eventually(lambda: _is(gauge("reader")[0], 1), timeout=5)
        queued = asyncio.create_task(reader.scalar(select(1)))
        await eventually(lambda: _is(gauge("reader")[1], 1), timeout=5)
        release.set()
        assert await queued == 1
        await holder
        assert gauge("reader")[1] == 0
    finally:
        await reader.close()
        await engine.dispose()


async def _is(value: float, expected: float) -> bool:
    return value == expected


@pytest.fixture
def settings(settings_for: Callable[..., KitSettings]) -> KitSettings:
    return settings_for(KitSettings, service_name="kittest")


@pytest_asyncio.fixture
async def producer(settings: KitSettings) -> AsyncIterator[AIOKafkaProducer]:
    await ensure_topics(
        settings, [settings.topic(Pinged.TOPIC), settings.topic("kittest.dlq.v1")], partitions=1
    )
    p = make_producer(settings)
    await p.start()
    yield p
    await p.stop()


def envelope(event: Pinged, event_id: uuid.UUID | None = None) -> bytes:
    env = event.envelope(producer="kittest", trace_id="t1", occurred_at=datetime.now(UTC))
    if event_id is not None:
        env = env.model_copy(update={"id": event_id})
    return env.model_dump_json().encode()


def other_event() -> bytes:
    """An event of a type this consumer has no handler for."""
    env = Envelope(
        id=uuid.uuid4(),
        type="kittest.unheard",
        version=1,
        producer="kittest",
        occurred_at=datetime.now(UTC),
        trace_id="t2",
        key="k",
        data={},
    )
    return env.model_dump_json().encode()


async def test_a_batch_counts_each_event_once_under_its_outcome_and_times_it(
    engine: AsyncEngine, settings: KitSettings, producer: AIOKafkaProducer
) -> None:
    group = f"kittest.{uuid.uuid4().hex[:6]}"
    sub = Subscriber(group=group, topics=[Pinged.TOPIC])
    seen: list[str] = []

    @sub.handler
    async def on_pinged(session: AsyncSession, event: Pinged) -> None:
        seen.append(event.subject)

    topic = settings.topic(Pinged.TOPIC)
    again = uuid.uuid4()
    # Sent before the consumer starts: one partition, so they arrive as one batch.
    for payload in [
        envelope(Pinged(subject="b1", seq=1), again),
        envelope(Pinged(subject="b1", seq=1), again),  # the same event delivered twice
        other_event(),
        envelope(Pinged(subject="b2", seq=2)),
        envelope(Pinged(subject="b3", seq=3)),
    ]:
        await producer.send(topic, payload, key=b"k")
    await producer.flush()
    runner = runner_of(sub, engine, settings, producer)
    task = asyncio.create_task(runner.run())
    try:
        await eventually(lambda: _is(float(len(seen)), 3), timeout=30)
        await asyncio.sleep(0.3)
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
    handled = {"consumer": group, "type": Pinged.TYPE}
    assert sample("yanxiu_events_handled_total", **handled, outcome="handled") == 3
    assert sample("yanxiu_events_handled_total", **handled, outcome="duplicate") == 1
    ignored = {"consumer": group, "type": "kittest.unheard", "outcome": "ignored"}
    assert sample("yanxiu_events_handled_total", **ignored) == 1
    assert sample("yanxiu_event_handle_seconds_count", consumer=group) == 4
    assert sorted(seen) == ["b1", "b2", "b3"]


async def test_a_dead_letter_is_counted_under_its_event_type_and_keeps_its_headers(
    engine: AsyncEngine, settings: KitSettings, producer: AIOKafkaProducer, broker: str
) -> None:
    group = f"kittest.{uuid.uuid4().hex[:6]}"
    sub = Subscriber(group=group, topics=[Pinged.TOPIC])

    @sub.handler
    async def on_pinged(session: AsyncSession, event: Pinged) -> None:
        raise AssertionError("never reached: the payload is invalid")

    broken = envelope(Pinged(subject="x", seq=1)).replace(b'"seq":1', b'"seq":"many"')
    await producer.send_and_wait(
        settings.topic(Pinged.TOPIC),
        broken,
        key=b"x",
        headers=[("type", Pinged.TYPE.encode()), ("origin", b"test")],
    )
    runner = runner_of(sub, engine, settings, producer)
    task = asyncio.create_task(runner.run())
    try:
        dead = await read_topic(broker, settings.topic("kittest.dlq.v1"), expect=1)
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
    headers = dict(dead[0].headers)
    assert headers["type"] == Pinged.TYPE.encode() and headers["origin"] == b"test"
    assert b"invalid" in headers["error"] and headers["consumer"] == group.encode()
    assert dead[0].key == b"x"
    labels = {"service": "kittest", "consumer": group, "type": Pinged.TYPE}
    assert sample("yanxiu_dead_letters_total", **labels) == 1
    outcome = {"consumer": group, "type": Pinged.TYPE, "outcome": "dead_lettered"}
    assert sample("yanxiu_events_handled_total", **outcome) == 1


async def test_lag_is_the_log_end_minus_what_the_consumer_committed(
    settings: KitSettings, producer: AIOKafkaProducer, broker: str
) -> None:
    topic = settings.topic(Pinged.TOPIC)
    for i in range(10):
        await producer.send(topic, envelope(Pinged(subject=f"l{i}", seq=i)), key=b"k")
    await producer.flush()
    group = settings.topic(f"lag.{uuid.uuid4().hex[:6]}")
    consumer = AIOKafkaConsumer(
        topic,
        bootstrap_servers=broker,
        group_id=group,
        enable_auto_commit=False,
        auto_offset_reset="earliest",
    )
    await consumer.start()
    watch = ConsumerWatch(group)
    tp = TopicPartition(topic, 0)
    try:
        fetched = 0
        while fetched < 10:
            fetched += sum(len(r) for r in (await consumer.getmany(timeout_ms=500)).values())
        await watch.commit(consumer, tp, 3)
        await watch.note_lag(consumer)
        labels = {"consumer": group, "topic": topic, "partition": "0"}
        assert sample("yanxiu_consumer_lag_messages", **labels) == 7
        await watch.commit(consumer, tp, 10)
        await watch.note_lag(consumer)
        assert sample("yanxiu_consumer_lag_messages", **labels) == 0
        watch.forget_lag()
        assert REGISTRY.get_sample_value("yanxiu_consumer_lag_messages", labels) is None
    finally:
        await consumer.stop()


async def test_a_callers_trace_comes_back_on_the_response_and_goes_out_on_its_events(
    settings_for: Callable[..., KitSettings], engine: AsyncEngine, broker: str
) -> None:
    trace = uuid.uuid4().hex
    sent = f"00-{trace}-{'a1' * 8}-01"
    async with kittest_client(settings_for, router) as http:
        answer = await http.get("/kittest/things/a", headers={"traceparent": sent})
        no_parent = await http.get("/kittest/things/a", headers={"traceparent": "00-zz-1-01"})
    parent = parse(answer.headers["traceparent"].encode())
    assert parent is not None and parent.trace_id == trace and parent.span_id != "a1" * 8
    assert answer.headers["x-request-id"] == trace
    # An invalid header starts a new trace rather than failing the request.
    assert no_parent.status_code == 200
    assert parse(no_parent.headers["traceparent"].encode()).trace_id != trace  # type: ignore[union-attr]

    settings = settings_for(KitSettings, service_name="kittest")
    topic = settings.topic(Pinged.TOPIC)
    await ensure_topics(settings, [topic], partitions=1)
    token = trace_id_var.set(trace)  # as inside the request that recorded the event
    try:
        async with make_session_factory(engine)() as session, session.begin():
            await Outbox(tables["outbox"], producer="kittest").add(
                session, Pinged(subject="t", seq=1)
            )
    finally:
        trace_id_var.reset(token)
    producer = make_producer(settings)
    await producer.start()
    try:
        relay = OutboxRelay(engine=engine, producer=producer, schema="kittest", settings=settings)
        assert await relay.publish_batch() == 1
    finally:
        await producer.stop()
    [published] = await read_topic(broker, topic, expect=1)
    carried = parse(dict(published.headers)["traceparent"])
    assert carried is not None and carried.trace_id == trace
