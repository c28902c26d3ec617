"""Event propagation benchmark: from the producing transaction's commit to the consumer's
committed effect, on the real path (enrollment outbox → relay → broker → learning consumer →
plan row), with producer side and consumer side in separate processes as in production.

    make bench        # or: .venv/bin/python -m bench.propagation --events 2000 --rate 200

Prints p50/p95/p99/max latency of paced events and the end-to-end rate of a burst.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
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
    """Reports on stdout when each event's effect has committed (after its batch's
    transaction): one line `<event id> <unix time>`."""

    async def handle_batch(self, records: list[ConsumerRecord[bytes, bytes]]) -> None:
        await super().handle_batch(records)
        now = time.time()
        lines = [f"{orjson.loads(r.value or b'{}')['id']} {now:.6f}" for r in records]
        sys.stdout.write("\n".join(lines) + "\n")
        sys.stdout.flush()


async def consumer_child(settings_json: str) -> None:
    """The learning side, in its own process."""
    settings = KitSettings.model_validate_json(settings_json)
    producer = make_producer(settings)
    await producer.start()
    runner = TimedRunner(
        subscriber=enrollment_events,
        settings=settings,
        session_factory=make_session_factory(make_engine(settings.database_url)),
        inbox=learning_metadata.tables["learning.inbox"],
        dlq_producer=producer,
        dlq_topic="learning.dlq.v1",
    )
    await runner.run()


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


async def wait_for(done: dict[uuid.UUID, float], ids: list[uuid.UUID], timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while not all(i in done for i in ids):
        if time.monotonic() > deadline:
            raise TimeoutError(f"{sum(i not in done for i in ids)} events never arrived")
        await asyncio.sleep(0.01)


async def bench(events: int, rate: float, burst: int) -> dict[str, Any]:
    server, how = await ensure_server(data_dir())
    name = f"yanxiu_bench_{uuid.uuid4().hex[:6]}"
    url = asyncpg_url(await create_database(server, name))
    broker = TansuBroker()
    bootstrap = broker.start()
    tasks: list[asyncio.Task[Any]] = []
    child: asyncio.subprocess.Process | None = None
    try:
        await migrate_all(url)
        settings = KitSettings.model_validate(
            {
                "database_url": url,
                "kafka_bootstrap_servers": bootstrap,
                "kafka_session_timeout_ms": 2000,
                "kafka_heartbeat_interval_ms": 300,
                # Tansu holds a fetch for its full wait; `make run` uses the same value.
                "kafka_fetch_max_wait_ms": 10,
            }
        )
        await ensure_topics(settings, ["enrollment.events.v1", "learning.dlq.v1"])
        engine = make_engine(url)
        producer = make_producer(settings)
        await producer.start()
        outbox = Outbox(enrollment_metadata.tables["enrollment.outbox"], producer="enrollment")
        relay = OutboxRelay(
            engine=engine, producer=producer, schema="enrollment", settings=settings
        )
        child = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "bench.propagation",
            "--consumer-child",
            settings.model_dump_json(),
            stdout=asyncio.subprocess.PIPE,
        )
        done: dict[uuid.UUID, float] = {}

        async def collect() -> None:
            assert child is not None and child.stdout is not None
            async for line in child.stdout:
                eid, ts = line.decode().split()
                done[uuid.UUID(eid)] = float(ts)

        tasks = [asyncio.create_task(relay.run()), asyncio.create_task(collect())]
        factory = make_session_factory(engine)

        async def commit(batch: list[TeacherRegistered]) -> tuple[list[uuid.UUID], float]:
            async with factory() as session, session.begin():
                envs = await outbox.add(session, *batch)
            return [e.id for e in envs], time.time()

        # Warm up: the consumer joins its group, connections open.
        warm, _ = await commit([registration(-1)])
        await wait_for(done, warm, 60)

        committed: dict[uuid.UUID, float] = {}
        start = time.monotonic()
        for i in range(events):
            [eid], at = await commit([registration(i)])
            committed[eid] = at
            await asyncio.sleep(max(0.0, start + (i + 1) / rate - time.monotonic()))
        await wait_for(done, list(committed), 60)
        lat = [(done[e] - t) * 1000 for e, t in committed.items()]

        # Burst: events committed 1,000 to a transaction; time until the last effect.
        t0 = time.time()
        ids: list[uuid.UUID] = []
        for chunk in range(0, burst, 1000):
            batch_ids, _ = await commit(
                [registration(i) for i in range(chunk, min(burst, chunk + 1000))]
            )
            ids.extend(batch_ids)
        await wait_for(done, ids, 120)
        burst_s = max(done[i] for i in ids) - t0
        await producer.stop()
        await engine.dispose()
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
        if child is not None and child.returncode is None:
            child.kill()
            await child.wait()
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
    parser.add_argument("--consumer-child", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.consumer_child:
        asyncio.run(consumer_child(args.consumer_child))
        return
    r = asyncio.run(bench(args.events, args.rate, args.burst))
    print(f"event propagation, commit -> consumer's committed effect ({r['postgres']})")
    print(f"  paced: {r['events']} events at {r['rate']:.0f}/s")
    print(
        f"    p50 {r['p50_ms']:.1f} ms   p95 {r['p95_ms']:.1f} ms   "
        f"p99 {r['p99_ms']:.1f} ms   max {r['max_ms']:.1f} ms"
    )
    print(f"  burst: {r['burst']} events -> {r['burst_events_per_s']:.0f} events/s end to end")
    print(
        f"  targets: p50 < 20 ms {'OK' if r['p50_ms'] < 20 else 'MISSED'}, "
        f"p99 < 100 ms {'OK' if r['p99_ms'] < 100 else 'MISSED'}"
    )


if __name__ == "__main__":
    main()
