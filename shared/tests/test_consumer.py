"""The consumer runner: one effect per event id, retries, dead letters, no stuck partition."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator, Callable
from datetime import UTC, datetime

import pytest
import pytest_asyncio
from aiokafka import AIOKafkaProducer
from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from shared.tests.kit_fixtures import Pinged, PingedV2, effects, runner_of
from yanxiu.contracts.envelope import Envelope
from yanxiu.kit.broker import ensure_topics, make_producer
from yanxiu.kit.consumer import ConsumerRunner, Subscriber
from yanxiu.kit.settings import KitSettings
from yanxiu.testing import eventually, read_topic

DLQ = "kittest.dlq.v1"


@pytest.fixture
def settings(settings_for: Callable[..., KitSettings]) -> KitSettings:
    return settings_for(KitSettings, service_name="kittest")


@pytest_asyncio.fixture
async def producer(settings: KitSettings) -> AsyncIterator[AIOKafkaProducer]:
    await ensure_topics(settings, [settings.topic(Pinged.TOPIC), settings.topic(DLQ)], partitions=2)
    p = make_producer(settings)
    await p.start()
    yield p
    await p.stop()


failures: dict[str, int] = {}


def make_subscriber() -> Subscriber:
    sub = Subscriber(group=f"kittest.{uuid.uuid4().hex[:6]}", topics=[Pinged.TOPIC])

    @sub.handler
    async def on_pinged(session: AsyncSession, event: Pinged) -> None:
        if event.subject.startswith("fail-always"):
            raise RuntimeError("this handler cannot cope")
        if event.subject.startswith("fail-once") and failures.get(event.subject, 0) == 0:
            failures[event.subject] = 1
            raise ConnectionError("transient")
        stmt = insert(effects).values(key=event.subject, count=1)
        await session.execute(
            stmt.on_conflict_do_update(
                index_elements=[effects.c.key], set_={"count": effects.c.count + 1}
            )
        )

    return sub


@pytest_asyncio.fixture
async def runner(
    engine: AsyncEngine, settings: KitSettings, producer: AIOKafkaProducer
) -> AsyncIterator[ConsumerRunner]:
    r = runner_of(make_subscriber(), engine, settings, producer, base_backoff=0.01)
    task = asyncio.create_task(r.run())
    yield r
    task.cancel()
    await asyncio.gather(task, return_exceptions=True)


def envelope(event: Pinged, *, event_id: uuid.UUID | None = None) -> bytes:
    env = event.envelope(producer="kittest", trace_id="t1", occurred_at=datetime.now(UTC))
    if event_id:
        env = env.model_copy(update={"id": event_id})
    return env.model_dump_json().encode()


async def effect_count(engine: AsyncEngine, key: str) -> int:
    async with engine.connect() as conn:
        return int(await conn.scalar(select(effects.c.count).where(effects.c.key == key)) or 0)


async def test_same_event_delivered_twice_has_one_effect(
    engine: AsyncEngine, settings: KitSettings, producer: AIOKafkaProducer, runner: ConsumerRunner
) -> None:
    event_id = uuid.uuid4()
    payload = envelope(Pinged(subject="dup", seq=1), event_id=event_id)
    topic = settings.topic(Pinged.TOPIC)
    await producer.send_and_wait(topic, payload, key=b"dup")
    await producer.send_and_wait(topic, payload, key=b"dup")
    await producer.send_and_wait(
        topic, envelope(Pinged(subject="dup-marker", seq=2)), key=b"dup"
    )  # same partition, after both copies
    await eventually(lambda: effect_count(engine, "dup-marker"))
    assert await effect_count(engine, "dup") == 1


async def test_unparseable_message_is_dead_lettered_and_the_next_one_handled(
    engine: AsyncEngine,
    settings: KitSettings,
    producer: AIOKafkaProducer,
    runner: ConsumerRunner,
    broker: str,
) -> None:
    topic = settings.topic(Pinged.TOPIC)
    await producer.send_and_wait(topic, b"{not json", key=b"k")
    await producer.send_and_wait(topic, envelope(Pinged(subject="after-garbage", seq=1)), key=b"k")
    await eventually(lambda: effect_count(engine, "after-garbage"))
    dead = await read_topic(broker, settings.topic(DLQ), expect=1)
    assert [r.value for r in dead] == [b"{not json"]
    headers = dict(dead[0].headers)
    assert b"unparseable envelope" in headers["error"]
    assert headers["source_topic"] == topic.encode()


async def test_failing_handler_is_retried_then_dead_lettered_without_stopping_partition(
    engine: AsyncEngine,
    settings: KitSettings,
    producer: AIOKafkaProducer,
    runner: ConsumerRunner,
    broker: str,
) -> None:
    topic = settings.topic(Pinged.TOPIC)
    await producer.send_and_wait(topic, envelope(Pinged(subject="fail-always", seq=1)), key=b"k")
    await producer.send_and_wait(topic, envelope(Pinged(subject="next-one", seq=2)), key=b"k")
    await eventually(lambda: effect_count(engine, "next-one"))
    dead = await read_topic(broker, settings.topic(DLQ), expect=1)
    assert len(dead) == 1
    headers = dict(dead[0].headers)
    assert headers["attempts"] == str(runner.max_attempts).encode()
    assert b"this handler cannot cope" in headers["error"]
    assert Envelope.model_validate_json(dead[0].value or b"").data["subject"] == "fail-always"


async def test_transient_failure_succeeds_on_retry_with_one_effect(
    engine: AsyncEngine, settings: KitSettings, producer: AIOKafkaProducer, runner: ConsumerRunner
) -> None:
    subject = f"fail-once-{uuid.uuid4().hex[:6]}"
    await producer.send_and_wait(
        settings.topic(Pinged.TOPIC), envelope(Pinged(subject=subject, seq=1)), key=b"k"
    )
    assert await eventually(lambda: effect_count(engine, subject)) == 1


async def test_unknown_version_of_a_known_type_is_dead_lettered(
    engine: AsyncEngine,
    settings: KitSettings,
    producer: AIOKafkaProducer,
    runner: ConsumerRunner,
    broker: str,
) -> None:
    topic = settings.topic(Pinged.TOPIC)
    await producer.send_and_wait(topic, envelope(PingedV2(subject="v2", seq=1)), key=b"k")
    await producer.send_and_wait(topic, envelope(Pinged(subject="v1-after", seq=2)), key=b"k")
    await eventually(lambda: effect_count(engine, "v1-after"))
    dead = await read_topic(broker, settings.topic(DLQ), expect=1)
    assert b"unsupported version 2" in dict(dead[0].headers)["error"]
    assert await effect_count(engine, "v2") == 0


async def test_invalid_payload_is_dead_lettered_with_the_validation_error(
    engine: AsyncEngine,
    settings: KitSettings,
    producer: AIOKafkaProducer,
    runner: ConsumerRunner,
    broker: str,
) -> None:
    env = Pinged(subject="bad", seq=1).envelope(producer="kittest", trace_id="t")
    bad = env.model_copy(update={"data": {"subject": "bad", "seq": "not-a-number"}})
    topic = settings.topic(Pinged.TOPIC)
    await producer.send_and_wait(topic, bad.model_dump_json().encode(), key=b"k")
    await producer.send_and_wait(topic, envelope(Pinged(subject="ok-after", seq=2)), key=b"k")
    await eventually(lambda: effect_count(engine, "ok-after"))
    dead = await read_topic(broker, settings.topic(DLQ), expect=1)
    assert b"invalid kittest.pinged v1" in dict(dead[0].headers)["error"]


async def test_consumer_restarted_resumes_after_last_commit_and_loses_nothing(
    engine: AsyncEngine, settings: KitSettings, producer: AIOKafkaProducer
) -> None:
    sub = make_subscriber()
    topic = settings.topic(Pinged.TOPIC)

    def new_runner() -> ConsumerRunner:
        return runner_of(sub, engine, settings, producer)

    first = asyncio.create_task(new_runner().run())
    for i in range(200):
        await producer.send(topic, envelope(Pinged(subject=f"r{i % 10}", seq=i)), key=b"k")
    await producer.flush()
    await eventually(lambda: _total(engine, 1))
    first.cancel()  # stop wherever it is
    await asyncio.gather(first, return_exceptions=True)
    for i in range(200, 400):
        await producer.send(topic, envelope(Pinged(subject=f"r{i % 10}", seq=i)), key=b"k")
    await producer.flush()
    second = asyncio.create_task(new_runner().run())
    try:
        assert await eventually(lambda: _total(engine, 400), timeout=30) == 400
        await asyncio.sleep(0.5)
        assert await _total(engine, 0) == 400  # each event once, none twice
    finally:
        second.cancel()
        await asyncio.gather(second, return_exceptions=True)


async def test_consumer_stopped_while_joining_its_group_stops_at_once_and_loses_nothing(
    engine: AsyncEngine, settings: KitSettings, producer: AIOKafkaProducer
) -> None:
    """A pod stopped during start-up (a rolling deploy, a test's app) must not sit out the
    broker's answer to its JoinGroup, which the broker holds until the group settles."""
    sub = make_subscriber()
    topic = settings.topic(Pinged.TOPIC)

    def new_runner() -> ConsumerRunner:
        return runner_of(sub, engine, settings, producer)

    await producer.send_and_wait(topic, envelope(Pinged(subject="r-join", seq=1)), key=b"k")
    joining = new_runner()
    first = asyncio.create_task(joining.run())
    await eventually(lambda: _asked_to_join(joining), interval=0.01)
    if joining.started.is_set():
        pytest.skip("this broker answered the join at once; nothing to cut short")
    began = asyncio.get_running_loop().time()
    first.cancel()
    await asyncio.gather(first, return_exceptions=True)
    assert asyncio.get_running_loop().time() - began < 0.5
    assert await _total(engine, 0) == 0  # it never consumed

    second = asyncio.create_task(new_runner().run())
    try:
        assert await eventually(lambda: _total(engine, 1), timeout=30) == 1
    finally:
        second.cancel()
        await asyncio.gather(second, return_exceptions=True)


async def _asked_to_join(runner: ConsumerRunner) -> bool:
    """The consumer has sent its JoinGroup (it holds a member id) and awaits the answer."""
    coordinator = getattr(runner.consumer, "_coordinator", None)
    return bool(coordinator is not None and coordinator.member_id)


async def _total(engine: AsyncEngine, at_least: int) -> int:
    async with engine.connect() as conn:
        rows = (
            (await conn.execute(select(effects.c.count).where(effects.c.key.like("r%"))))
            .scalars()
            .all()
        )
    total = sum(rows)
    return total if total >= at_least else 0


def test_handler_without_an_event_annotation_is_refused() -> None:
    sub = Subscriber(group="g", topics=["t"])
    with pytest.raises(TypeError):

        @sub.handler
        async def broken(session: AsyncSession, event: dict) -> None:  # type: ignore[type-arg]
            return None
