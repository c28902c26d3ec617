"""Credits ledger benchmark: one million ledger entries recorded from events, exactly once,
then a teacher's balance and a city's totals at that size.

Events (`learning.course_completed`, Zhaoqing teachers, whose region counts each course) are
produced to a real Tansu broker first; then the credits consumer (the real `upstream_events`
subscriber in the kit's ConsumerRunner: inbox claim, batch handler, set-based ledger writes,
all in one transaction per fetched batch) drains them into a fresh, migrated database. The
rate is entries committed per second of draining. A slice is then replayed (same envelope
ids, and new envelope ids for the same completions) and the count must not move.

    .venv/bin/python -m bench.credits_ledger --entries 1000000
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import random
import statistics
import sys
import time
import uuid
from datetime import UTC, datetime
from typing import Any

import asyncpg
from sqlalchemy import text

from credits.ledger.consumers import upstream_events
from credits.ledger.reports import org_totals
from credits.ledger.service import year_status
from credits.models import metadata as credits_metadata
from stack.migrate import migrate_all
from yanxiu.devstack.broker import TansuBroker
from yanxiu.devstack.paths import data_dir
from yanxiu.devstack.postgres import create_database, drop_database, ensure_server
from yanxiu.kit.app import settle_heap
from yanxiu.kit.auth import Principal, Role
from yanxiu.kit.broker import ensure_topics, make_producer
from yanxiu.kit.consumer import ConsumerRunner
from yanxiu.kit.db import asyncpg_url, make_engine, make_session_factory
from yanxiu.kit.settings import KitSettings

TOPIC = "learning.events.v1"
PROVINCE, CITY = "440000", "441200"
COUNTIES = [f"4412{n:02d}" for n in range(2, 10)]
CATEGORIES = ["general_required", "general_elective", "subject_required", "subject_elective"]


def envelope(
    event_id: uuid.UUID, completion: uuid.UUID, teacher: uuid.UUID, i: int, place: int
) -> bytes:
    county = COUNTIES[place % len(COUNTIES)]
    school = f"{county}-S{place % 50:03d}"
    now = datetime.now(UTC).isoformat()
    # Built as text: a million pydantic envelopes would dominate the producing side.
    return (
        f'{{"id":"{event_id}","type":"learning.course_completed","version":1,'
        f'"occurred_at":"{now}","producer":"learning","key":"{teacher}","trace_id":"bench",'
        f'"data":{{"completion_id":"{completion}","teacher_id":"{teacher}",'
        f'"project_id":"00000000-0000-0000-0000-000000000001","project_year":2026,'
        f'"course_id":null,"course_title":"课程{i % 97}","category":"{CATEGORIES[i % 4]}",'
        f'"hours":"{1 + i % 6}.0","source":"video","source_ref":null,"provider_id":null,'
        f'"org":{{"province_id":"{PROVINCE}","city_id":"{CITY}","county_id":"{county}",'
        f'"school_id":"{school}"}},"completed_at":"{now}"}}}}'
    ).encode()


async def produce(settings: KitSettings, items: list[tuple[uuid.UUID, bytes]]) -> float:
    # Large batches: with 16 KiB ones a million events are tens of thousands of stored
    # batches, and Tansu's in-memory engine slows to a few hundred events/s serving them.
    producer = make_producer(settings, linger_ms=20, max_batch_size=512 * 1024)
    await producer.start()
    started = time.perf_counter()
    try:
        topic = settings.topic(TOPIC)
        for i in range(0, len(items), 5000):
            futures = [
                await producer.send(topic, value, key=str(key).encode())
                for key, value in items[i : i + 5000]
            ]
            await asyncio.gather(*futures)
    finally:
        await producer.stop()
    return time.perf_counter() - started


async def count(engine: Any) -> int:
    async with engine.connect() as conn:
        return int(
            (await conn.execute(text("SELECT count(*) FROM credits.ledger_entries"))).scalar()
        )


async def consumer_child(settings_json: str) -> None:
    """One credits consumer process (a replica): the real subscriber in the kit's runner."""
    settings = KitSettings.model_validate_json(settings_json)
    producer = make_producer(settings)
    await producer.start()
    runner = ConsumerRunner(
        subscriber=upstream_events,
        settings=settings,
        session_factory=make_session_factory(make_engine(settings.database_url, pool_size=2)),
        inbox=credits_metadata.tables["credits.inbox"],
        dlq_producer=producer,
        dlq_topic="credits.dlq.v1",
    )
    settle_heap()  # as the service's lifespan does
    await runner.run()


async def drain(
    settings: KitSettings,
    engine: Any,
    target: int,
    timeout: float,
    replicas: int,
    samples: list[tuple[float, int]] | None = None,
) -> float:
    """Start `replicas` consumer processes in one group and wait until `target` entries;
    `samples` collects (seconds, entries) as it goes."""
    children = [
        await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "bench.credits_ledger",
            "--consumer-child",
            settings.model_dump_json(),
        )
        for _ in range(replicas)
    ]
    started = time.perf_counter()
    try:
        while (n := await count(engine)) < target:
            if samples is not None:
                samples.append((time.perf_counter() - started, n))
            if time.perf_counter() - started > timeout:
                raise TimeoutError(f"{n} of {target} entries after {timeout}s")
            await asyncio.sleep(0.25)
        return time.perf_counter() - started
    finally:
        for child in children:
            child.terminate()
        for child in children:
            await child.wait()


async def register(url: str, teachers: list[uuid.UUID]) -> None:
    """The teachers' read model (as enrollment's events would fill it): report denominators."""
    conn = await asyncpg.connect(url.replace("postgresql+asyncpg://", "postgresql://"))
    try:
        await conn.copy_records_to_table(
            "teachers",
            schema_name="credits",
            columns=["teacher_id", "name", "province_id", "city_id", "county_id", "school_id"],
            records=[
                (
                    t,
                    f"教师{i}",
                    PROVINCE,
                    CITY,
                    COUNTIES[i % len(COUNTIES)],
                    f"{COUNTIES[i % len(COUNTIES)]}-S{i % 50:03d}",
                )
                for i, t in enumerate(teachers)
            ],
        )
    finally:
        await conn.close()


def window_rates(samples: list[tuple[float, int]], width: float = 5.0) -> list[float]:
    """Entries/s over consecutive `width`-second windows, from the first committed entry on
    (the processes' start and the group's first join are left out)."""
    busy = [(t, n) for t, n in samples if n > 0]
    rates, start = [], busy[0] if busy else None
    for t, n in busy:
        if start is not None and t - start[0] >= width:
            rates.append((n - start[1]) / (t - start[0]))
            start = (t, n)
    return rates


def pct(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(p / 100 * (len(ordered) - 1)))]


async def bench(entries: int, per_teacher: int, replicas: int) -> dict[str, Any]:
    server, _how = await ensure_server(data_dir())
    name = f"yanxiu_bench_ledger_{uuid.uuid4().hex[:6]}"
    url = asyncpg_url(await create_database(server, name))
    broker = TansuBroker()
    bootstrap = broker.start()
    try:
        await migrate_all(url)
        settings = KitSettings.model_validate(
            {
                "database_url": url,
                "kafka_bootstrap_servers": bootstrap,
                "kafka_session_timeout_ms": 2000,
                "kafka_heartbeat_interval_ms": 300,
                "kafka_fetch_max_wait_ms": 10,
                "service_name": "credits",
                "db_pool_size": 4,
                "kafka_max_poll_records": 5000,
            }
        )
        await ensure_topics(settings, [TOPIC, "credits.dlq.v1"])
        teachers = [uuid.uuid4() for _ in range(max(1, entries // per_teacher))]
        items = []
        for i in range(entries):
            teacher = teachers[i % len(teachers)]
            items.append(
                (teacher, envelope(uuid.uuid4(), uuid.uuid4(), teacher, i, i % len(teachers)))
            )
        await register(url, teachers)
        produce_s = await produce(settings, items)
        engine = make_engine(url, pool_size=4)
        samples: list[tuple[float, int]] = []
        drain_s = await drain(
            settings,
            engine,
            entries,
            timeout=max(120.0, entries / 2000),
            replicas=replicas,
            samples=samples,
        )
        # Exactly once: the same envelopes again, and new envelope ids for the same facts.
        replay = items[: min(20_000, entries)]
        refacts = [(k, v.replace(v[7:43], str(uuid.uuid4()).encode(), 1)) for k, v in replay]
        await produce(settings, replay + refacts)
        # Run the consumer over the replayed slice for a while, then count: nothing may move.
        with contextlib.suppress(TimeoutError):
            await drain(
                settings, engine, entries + 1, timeout=max(10.0, len(replay) / 2000), replicas=1
            )
        after_replay = await count(engine)

        factory = make_session_factory(engine)
        balance_ms = []
        year = 2026
        for teacher in random.sample(teachers, min(1000, len(teachers))):
            async with factory() as session:
                t0 = time.perf_counter()
                await year_status(session, teacher_id=teacher, year=year)
                balance_ms.append((time.perf_counter() - t0) * 1000)
        admin = Principal(user_id="bench", role=Role.city_admin, org_path=(PROVINCE, CITY))
        city_ms = []
        for _ in range(30):
            async with factory() as session:
                t0 = time.perf_counter()
                totals = await org_totals(
                    session, actor=admin, level="county", parent=CITY, year=year
                )
                city_ms.append((time.perf_counter() - t0) * 1000)
        await engine.dispose()
        return {
            "entries": entries,
            "teachers": len(teachers),
            "produce_s": produce_s,
            "drain_s": drain_s,
            "rate": entries / drain_s,
            "window_rates": window_rates(samples),
            "replicas": replicas,
            "after_replay": after_replay,
            "balance_p50": statistics.median(balance_ms),
            "balance_p99": pct(balance_ms, 99),
            "city_p50": statistics.median(city_ms),
            "city_p99": pct(city_ms, 99),
            "city_counties": len(totals.rows),
            "city_teachers": sum(r.teachers for r in totals.rows),
        }
    finally:
        broker.stop()
        await drop_database(server, name)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--entries", type=int, default=1_000_000)
    parser.add_argument("--per-teacher", type=int, default=10)
    parser.add_argument("--replicas", type=int, default=2, help="consumer processes")
    parser.add_argument("--consumer-child", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.consumer_child:
        asyncio.run(consumer_child(args.consumer_child))
        return
    r = asyncio.run(bench(args.entries, args.per_teacher, args.replicas))
    ok = "OK" if r["after_replay"] == r["entries"] else "MISMATCH"
    print(
        f"credits ledger from events: {r['entries']:,} entries for {r['teachers']:,} teachers\n"
        f"  produce to the broker      {r['produce_s']:8.1f} s\n"
        f"  consume into the ledger    {r['drain_s']:8.1f} s, {r['replicas']} consumer processes"
        f"  → {r['rate']:,.0f} entries/s "
        f"(target ≥ 10,000)\n"
        f"  steady rate, 5 s windows   median {statistics.median(r['window_rates'] or [0]):,.0f}"
        f" entries/s, min {min(r['window_rates'] or [0]):,.0f}, "
        f"{len(r['window_rates'])} windows\n"
        f"  after replaying a slice    {r['after_replay']:,} entries  {ok}\n"
        f"  teacher balance            p50 {r['balance_p50']:.2f} ms  p99 {r['balance_p99']:.2f} ms"
        f"  (target < 10)\n"
        f"  city totals ({r['city_counties']} counties, {r['city_teachers']:,} teachers) "
        f"p50 {r['city_p50']:.1f} ms  p99 {r['city_p99']:.1f} ms  (target < 50)"
    )


if __name__ == "__main__":
    main()
