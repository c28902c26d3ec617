"""Event propagation benchmark: from the producing transaction's commit to the consumer's
committed effect, on the real path (enrollment outbox → relay → broker → learning consumer →
plan row).

    make bench            # or: .venv/bin/python -m bench.propagation --events 2000 --rate 200

Prints p50/p95/p99/max latency of paced events and the throughput of a burst.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import time
import uuid
from datetime import UTC, datetime
from typing import Any

import orjson
from aiokafka import ConsumerRecord
from enrollment.models import metadata as enrollment_metadata
from learning.consumers import enrollment_events
from learning.models import metadata as learning_metadata
from stack.migrate import migrate_all
from yanxiu.contracts.enrollment import TeacherRegistered
from yanxiu.contracts.envelope import OrgPath
from yanxiu.devstack.broker import TansuBroker
from yanxiu.devstack.paths import data_dir
from yanxiu.devstack.postgres import create_database, drop_database, ensure_server
from yanxiu.kit.broker import ensure_topics, make_producer
from yanxiu.kit.consumer import ConsumerRunner
from yanxiu.kit.db import asyncpg_url, make_engine, make_session_factory
from yanxiu.kit.outbox import Outbox
from yanxiu.kit.relay import OutboxRelay
from yanxiu.kit.settings import KitSettings


class TimedRunner(ConsumerRunner):
    """Records when each event's effect has committed (after the batch's transaction)."""

    def __init__(self, **kw: Any) -> None:
        super().__init__(**kw)
        self.done: dict[uuid.UUID, float] = {}

    async def handle_batch(self, records: list[ConsumerRecord[bytes, bytes]]) -> None:
        await super().handle_batch(records)
        now = time.perf_counter()
        for record in records:
            self.done[uuid.UUID(orjson.loads(record.value or b"{}")["id"])] = now


def registration(i: int) -> TeacherRegistered:
    return TeacherRegistered(
        registration_id=uuid.uuid4(),
        project_id=uuid.uuid4(),
        project_year=2026,
        teacher_id=uuid.uuid4(),
        teacher_name=f"教师{i}",
        stage="primary",
        subject="语文",
        is_rural=i % 3 == 0,
        org=OrgPath(
            province_id="370000", city_id="370100", county_id="370102", school_id="370102-S001"
        ),
        registered_at=datetime.now(UTC),
    )


def pct(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(p / 100 * (len(ordered) - 1)))]


async def bench(events: int, rate: float, burst: int) -> dict[str, Any]:
    server, how = await ensure_server(data_dir())
    name = f"yanxiu_bench_{uuid.uuid4().hex[:6]}"
    url = asyncpg_url(await create_database(server, name))
    broker = TansuBroker()
    bootstrap = broker.start()
    tasks: list[asyncio.Task[Any]] = []
    try:
        await migrate_all(url)
        settings = KitSettings.model_validate(
            {
                "database_url": url,
                "kafka_bootstrap_servers": bootstrap,
                "kafka_session_timeout_ms": 2000,
                "kafka_heartbeat_interval_ms": 300,
                # Tansu holds fetches for the full wait; `make run` uses the same value.
                "kafka_fetch_max_wait_ms": 10,
            }
        )
        await ensure_topics(settings, ["enrollment.events.v1", "learning.dlq.v1"])
        producer_engine, consumer_engine = make_engine(url), make_engine(url)
        producer = make_producer(settings)
        await producer.start()
        outbox_table = enrollment_metadata.tables["enrollment.outbox"]
        outbox = Outbox(outbox_table, producer="enrollment")
        relay = OutboxRelay(
            engine=producer_engine, producer=producer, schema="enrollment", settings=settings
        )
        runner = TimedRunner(
            subscriber=enrollment_events,
            settings=settings,
            session_factory=make_session_factory(consumer_engine),
            inbox=learning_metadata.tables["learning.inbox"],
            dlq_producer=producer,
            dlq_topic="learning.dlq.v1",
        )
        tasks = [asyncio.create_task(relay.run()), asyncio.create_task(runner.run())]
        factory = make_session_factory(producer_engine)

        async def commit_one(i: int) -> tuple[uuid.UUID, float]:
            async with factory() as session, session.begin():
                [env] = await outbox.add(session, registration(i))
            return env.id, time.perf_counter()

        # Warm up: the consumer joins its group, connections open.
        warm_id, _ = await commit_one(-1)
        while warm_id not in runner.done:
            await asyncio.sleep(0.01)

        committed: dict[uuid.UUID, float] = {}
        interval = 1.0 / rate
        start = time.perf_counter()
        for i in range(events):
            eid, t = await commit_one(i)
            committed[eid] = t
            next_at = start + (i + 1) * interval
            await asyncio.sleep(max(0.0, next_at - time.perf_counter()))
        while len(committed.keys() & runner.done.keys()) < events:
            await asyncio.sleep(0.01)
        lat = [(runner.done[e] - t) * 1000 for e, t in committed.items()]

        # Burst: many events committed in a few transactions, time to the last effect.
        t0 = time.perf_counter()
        ids: list[uuid.UUID] = []
        for chunk in range(0, burst, 1000):
            async with factory() as session, session.begin():
                envs = await outbox.add(
                    session, *[registration(i) for i in range(chunk, min(burst, chunk + 1000))]
                )
                ids.extend(e.id for e in envs)
        while not all(i in runner.done for i in ids):
            await asyncio.sleep(0.01)
        burst_s = time.perf_counter() - t0
        await producer.stop()
        await producer_engine.dispose()
        await consumer_engine.dispose()
        return {
            "postgres": how,
            "events": events,
            "rate": rate,
            "p50_ms": statistics.median(lat),
            "p95_ms": pct(lat, 95),
            "p99_ms": pct(lat, 99),
            "max_ms": max(lat),
            "burst": burst,
            "burst_events_per_s": burst / burst_s,
        }
    finally:
        for t in tasks:
            t.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        broker.stop()
        await drop_database(server, name)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--events", type=int, default=2000)
    parser.add_argument("--rate", type=float, default=200.0, help="paced events per second")
    parser.add_argument("--burst", type=int, default=10000)
    args = parser.parse_args()
    r = asyncio.run(bench(args.events, args.rate, args.burst))
    print(f"event propagation, commit -> consumer's committed effect ({r['postgres']})")
    print(f"  paced: {r['events']} events at {r['rate']:.0f}/s")
    print(
        f"    p50 {r['p50_ms']:.1f} ms   p95 {r['p95_ms']:.1f} ms   "
        f"p99 {r['p99_ms']:.1f} ms   max {r['max_ms']:.1f} ms"
    )
    print(
        f"  burst: {r['burst']} events in one go -> {r['burst_events_per_s']:.0f} events/s "
        "end to end"
    )
    print(
        f"  targets: p50 < 20 ms {'OK' if r['p50_ms'] < 20 else 'MISSED'}, "
        f"p99 < 100 ms {'OK' if r['p99_ms'] < 100 else 'MISSED'}"
    )


if __name__ == "__main__":
    main()
