"""Faults as production meets them, against long-running processes under a stream of writes:
each service killed with SIGKILL, the broker killed and restarted, the database stopped for
20 s, a poison and a duplicate event. After each: every acknowledged write is there, every
event had its effect in every consuming service exactly once, the dead-letter topics hold only
the poison, and every consumer group's lag is back to 0."""

from __future__ import annotations

import asyncio
import json
import signal

import asyncpg
from aiokafka import AIOKafkaProducer

from tests.faults.effects import (
    CONSUMER_MODULES,
    Stream,
    dead_letters,
    during,
    holdings,
    settled,
)
from tests.faults.live import PROCESSES, LiveStack
from tests.province.world import World
from yanxiu.contracts.enrollment import ENROLLMENT_TOPIC
from yanxiu.kit.db import plain_url

POISON = b"\x00not an event at all"


async def parked(live: LiveStack) -> dict[str, list[bytes]]:
    return await dead_letters(live.broker.bootstrap, live.env["KAFKA_TOPIC_PREFIX"])


async def test_a_service_killed_mid_stream_loses_no_acknowledged_write_and_doubles_no_effect(
    live: LiveStack, province: World
) -> None:
    stream = Stream(province)
    for name in PROCESSES:

        async def crash(name: str = name) -> None:
            live.kill(name)
            await asyncio.sleep(1.0)
            await live.restart(name)

        await during(stream, 4.0, crash)
    assert len(stream.registered) > 10, stream.answers
    await settled(live, stream)
    assert all(not got for got in (await parked(live)).values())


async def test_the_broker_killed_and_restarted_mid_stream_loses_no_event(
    live: LiveStack, province: World
) -> None:
    stream = Stream(province)

    async def broker_crash() -> None:
        assert live.broker.proc is not None
        live.broker.proc.send_signal(signal.SIGKILL)
        live.broker.proc.wait(10)
        await asyncio.sleep(2.0)
        await asyncio.to_thread(live.broker.start)  # same port, an empty broker

    await during(stream, 10.0, broker_crash)
    assert len(stream.registered) > 10, stream.answers
    await settled(live, stream)
    assert all(not got for got in (await parked(live)).values())


async def test_a_database_outage_is_503_to_clients_and_loses_nothing(
    live: LiveStack, province: World
) -> None:
    stream = Stream(province)

    async def outage() -> None:
        await asyncio.to_thread(live.database.stop, "fast")
        await asyncio.sleep(20.0)
        await asyncio.to_thread(live.database.start)

    await during(stream, 26.0, outage)
    assert stream.answers[500] == 0, [r.text for r in stream.refusals if r.status_code == 500]
    unavailable = [r for r in stream.refusals if r.status_code == 503]
    assert unavailable, stream.answers
    for answer in unavailable:
        assert answer.headers["content-type"].startswith("application/problem+json")
        assert int(answer.headers["retry-after"]) >= 1
    await settled(live, stream)
    assert all(not got for got in (await parked(live)).values())


async def test_a_poison_event_is_parked_and_a_duplicate_has_no_second_effect(
    live: LiveStack, province: World
) -> None:
    conn = await asyncpg.connect(plain_url(live.database_url))
    try:
        copy = await conn.fetchrow(
            "SELECT key, payload FROM enrollment.outbox"
            " WHERE event_type = 'enrollment.teacher_registered' ORDER BY id DESC LIMIT 1"
        )
    finally:
        await conn.close()
    assert copy is not None
    producer = AIOKafkaProducer(bootstrap_servers=live.broker.bootstrap, acks="all")
    await producer.start()
    try:
        topic = f"{live.env['KAFKA_TOPIC_PREFIX']}{ENROLLMENT_TOPIC}"
        await producer.send_and_wait(topic, POISON, key=b"poison")
        await producer.send_and_wait(topic, bytes(copy["payload"]), key=copy["key"].encode())
    finally:
        await producer.stop()
    stream = Stream(province)
    await during(stream, 2.0, lambda: None)
    await settled(live, stream)
    got = await parked(live)
    assert {service: got[service] for service in CONSUMER_MODULES} == {
        service: [POISON] for service in CONSUMER_MODULES
    }
    duplicate = json.loads(bytes(copy["payload"]))
    held = await holdings(live.database_url, province.ids["project"])
    assert duplicate["data"]["teacher_id"] in held.plans  # had its effect once, not twice
