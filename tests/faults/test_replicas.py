"""More than one of everything, as production runs it: two replicas of each service and two
gateways (each gateway in front of its own replica of every service), long-running processes
on one database and one broker. Writes through both gateways have each effect exactly once in
every consuming service; the two relays of a schema publish each event once between them; the
same played video reported to both learning replicas is paid once; and the two gateways draw
on one rate-limit bucket per caller (Redis)."""

from __future__ import annotations

import asyncio
import dataclasses
import time
from collections.abc import AsyncIterator
from typing import Any

import asyncpg
import httpx
import pytest
import pytest_asyncio
from aiokafka import AIOKafkaConsumer, TopicPartition
from prometheus_client.parser import text_string_to_metric_families

from tests.faults.conftest import migrated, ready
from tests.faults.effects import Stream, settled
from tests.faults.live import PROCESSES, LiveStack
from tests.province import world as world_mod
from yanxiu.contracts.enrollment import ENROLLMENT_TOPIC
from yanxiu.devstack.broker import TansuBroker
from yanxiu.devstack.paths import SERVICES
from yanxiu.devstack.private_postgres import PrivateServer
from yanxiu.devstack.redis import RedisServer
from yanxiu.kit.db import make_engine, make_session_factory, plain_url

SECOND = "@2"
REPLICAS = tuple(f"{name}{SECOND}" for name in PROCESSES)


@pytest_asyncio.fixture(scope="module")
async def doubled(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[LiveStack]:
    home = tmp_path_factory.mktemp("replicas")
    database = PrivateServer(home / "postgres")
    broker = TansuBroker(log_file=home / "tansu.log")
    redis = RedisServer()
    stack = LiveStack(home=home, database=database, broker=broker, replicas=REPLICAS)
    try:
        url = await migrated(database)
        await asyncio.to_thread(broker.start)
        redis_url = await asyncio.to_thread(redis.start)
        stack.configure(url)
        shared_limits = {
            "GATEWAY_RATE_LIMIT_ENABLED": "true",
            "GATEWAY_RATE_LIMIT_REDIS_URL": redis_url,
            # A large burst (the province is built through one gateway, the streams write
            # through both) and a slow refill: what the two let through together is the burst.
            "GATEWAY_RATE_LIMIT_PER_SECOND": "5",
            "GATEWAY_RATE_LIMIT_BURST": "400",
        }
        stack.own_env["gateway"] = shared_limits
        stack.own_env[f"gateway{SECOND}"] = {
            **shared_limits,
            **{f"GATEWAY_{s.upper()}_URL": stack.url(f"{s}{SECOND}") for s in SERVICES},
        }
        stack.own_env[f"lessons{SECOND}"] = {
            "LESSONS_ENROLLMENT_URL": stack.url(f"enrollment{SECOND}")
        }
        for name in (*PROCESSES, *REPLICAS):
            stack.start(name)
        for name in (*PROCESSES, *REPLICAS):
            await stack.wait_up(name, timeout=120)
        await ready(stack, timeout=120)
        yield stack
    finally:
        stack.stop_all()
        broker.stop()
        redis.stop()
        await asyncio.to_thread(database.remove)


@pytest_asyncio.fixture(scope="module")
async def worlds(doubled: LiveStack) -> AsyncIterator[tuple[world_mod.World, world_mod.World]]:
    """The province, built through the first gateway; the same actors through the second."""
    engine = make_engine(doubled.database_url, pool_size=2)
    try:
        async with (
            httpx.AsyncClient(base_url=doubled.url("gateway"), timeout=30) as first,
            httpx.AsyncClient(base_url=doubled.url(f"gateway{SECOND}"), timeout=30) as second,
        ):
            world = await world_mod.build(first, make_session_factory(engine))
            yield world, dataclasses.replace(world, client=second)
    finally:
        await engine.dispose()


async def test_writes_through_two_gateways_have_each_effect_once_and_each_event_one_publish(
    doubled: LiveStack, worlds: tuple[world_mod.World, world_mod.World]
) -> None:
    streams = [Stream(world) for world in worlds]
    stop = asyncio.Event()
    writers = [asyncio.create_task(s.run(stop, pause=0.1)) for s in streams]
    await asyncio.sleep(8.0)
    stop.set()
    await asyncio.gather(*writers)
    assert all(len(s.registered) > 3 for s in streams), [s.answers for s in streams]
    both = Stream(worlds[0])
    for s in streams:
        both.teachers += s.teachers
        both.registered += s.registered
    await settled(doubled, both)

    # Each of enrollment's events went to the broker once, whichever relay sent it.
    conn = await asyncpg.connect(plain_url(doubled.database_url))
    try:
        rows = await conn.fetchval("SELECT count(*) FROM enrollment.outbox")
        unpublished = await conn.fetchval(
            "SELECT count(*) FROM enrollment.outbox WHERE published_at IS NULL"
        )
    finally:
        await conn.close()
    assert unpublished == 0
    assert await records_in(doubled, ENROLLMENT_TOPIC) == rows
    published = [
        await metric(doubled, name, "yanxiu_outbox_published_total", schema="enrollment")
        for name in ("enrollment", f"enrollment{SECOND}")
    ]
    assert sum(published) == rows, published


async def test_one_video_reported_to_both_learning_replicas_is_paid_once(
    worlds: tuple[world_mod.World, world_mod.World],
) -> None:
    """A player's retry that lands on the other replica (or a second tab) must not double the
    hours: the same segments reach both replicas at the same moment."""
    beat: dict[str, Any] = {
        "course_id": worlds[0].ids["course_subject"],
        "project_id": worlds[0].ids["project"],
        "device_session_id": "replica-device",
        "position": 0,
    }
    credited = 0.0

    async def send(world: world_mod.World, body: dict[str, Any]) -> float:
        answer = await world.client.post(
            "/api/v1/learning/progress", json=body, headers=world.auth("teacher_self")
        )
        # The copy that comes second finds its seconds already played: refused as faster
        # than real time (409), or accepted with nothing more to pay.
        assert answer.status_code == 200 or answer.json()["code"] == "playback_too_fast", (
            answer.text
        )
        return float(answer.json()["credited_seconds"])

    await send(worlds[0], beat)
    began = time.monotonic()
    for i in range(1, 5):
        await asyncio.sleep(2.2)
        body = {**beat, "position": 2 * i, "segments": [[2 * (i - 1), 2 * i]]}
        credited += sum(await asyncio.gather(send(worlds[0], body), send(worlds[1], body)))
    elapsed = time.monotonic() - began
    progress = await worlds[1].call(
        "teacher_self", "GET", f"/api/v1/learning/progress/{worlds[0].teachers['T1']}"
    )
    [row] = [r for r in progress["items"] if r["course_id"] == beat["course_id"]]
    assert row["watched_seconds"] == pytest.approx(8.0, abs=0.01)
    assert credited == pytest.approx(8.0, abs=0.01) and credited <= elapsed


async def test_two_gateways_draw_on_one_rate_limit_per_caller(doubled: LiveStack) -> None:
    """One caller (an address without a token), 600 requests across both gateways, 20 at a
    time: together they let the one burst of 400 through, and what refilled meanwhile; apart,
    each would have let all its 300 through."""
    answers: list[tuple[str, int]] = []
    async with httpx.AsyncClient(timeout=10) as client:

        async def ask(i: int) -> None:
            name = "gateway" if i % 2 == 0 else f"gateway{SECOND}"
            answer = await client.get(f"{doubled.url(name)}/api/v1/auth/jwks")
            answers.append((name, answer.status_code))

        began = time.monotonic()
        for start in range(0, 600, 20):
            await asyncio.gather(*(ask(i) for i in range(start, start + 20)))
        elapsed = time.monotonic() - began
    passed = sum(1 for _, status in answers if status == 200)
    # One bucket: its burst and what refilled at 5/s meanwhile (apart: all 600).
    assert 400 <= passed <= 400 + 5 * elapsed + 5 and passed < 600, (passed, elapsed)
    assert {name for name, status in answers if status == 429} == {"gateway", f"gateway{SECOND}"}


async def records_in(live: LiveStack, topic: str) -> int:
    consumer = AIOKafkaConsumer(bootstrap_servers=live.broker.bootstrap, group_id=None)
    await consumer.start()
    try:
        name = live.env["KAFKA_TOPIC_PREFIX"] + topic
        await consumer.topics()
        tps = [TopicPartition(name, p) for p in consumer.partitions_for_topic(name) or ()]
        starts = await consumer.beginning_offsets(tps)
        ends = await consumer.end_offsets(tps)
        return sum(ends[tp] - starts[tp] for tp in tps)
    finally:
        await consumer.stop()


async def metric(live: LiveStack, process: str, name: str, **labels: str) -> float:
    async with httpx.AsyncClient(timeout=5) as client:
        text = (await client.get(f"{live.url(process)}/metrics")).text
    total = 0.0
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            if sample.name == name and all(sample.labels.get(k) == v for k, v in labels.items()):
                total += sample.value
    return total
