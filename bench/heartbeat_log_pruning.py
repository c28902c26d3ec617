"""Heartbeat log pruning against the heartbeat path (issue #13): does deleting a large backlog of
old `learning.heartbeats` rows slow the heartbeats being written at the same time?

The platform of bench.learning_heartbeats (learning and the gateway as uvicorn processes on a
fresh database, 2,000 teachers with plans and tokens), with the service's own housekeeping off;
each round fills the log with `--backlog` rows 40 days old (older than the 30-day retention),
then runs `POST /progress` at a fixed rate directly at the learning process, taking turns:

  A  nothing else running;
  B  the same, while the heartbeat log job (learning.progress.housekeeping, the code the service
     runs on its schedule) deletes the backlog in batches of `--batch` rows;
  A' nothing else running again (after the backlog is gone: the spread between A and A' is the
     machine's noise).

The pruning runs in this harness process (on its own connection, as it would in the service):
its work is the database's, which is what the heartbeat path shares with it.

    .venv/bin/python -m bench.heartbeat_log_pruning --backlog 1000000 --seconds 15 --rounds 2
"""

from __future__ import annotations

import argparse
import asyncio
import os
import time
from datetime import timedelta
from typing import Any

import asyncpg
import uvloop

from bench.learning_heartbeats import Tally, fixed_rate, platform, warm_tokens
from learning.config import Settings
from learning.progress.housekeeping import heartbeat_log_jobs
from yanxiu.kit.db import make_engine, plain_url
from yanxiu.kit.housekeeping import Housekeeper

# Old rows get the lowest ids, below every row there is, as rows written 40 days ago would have.
FILL = (
    "INSERT INTO learning.heartbeats (id, teacher_id, project_id, course_id, session_id, "
    "position, segments, client_at, received_at, outcome, credited_seconds) "
    "SELECT $3 - g, gen_random_uuid(), gen_random_uuid(), gen_random_uuid(), 'bench-old', "
    "g % 14400, '[[0, 10]]', now() - $2::interval, now() - $2::interval, 'accepted', 10 "
    "FROM generate_series(1, $1) g"
)


async def fill(url: str, rows: int) -> float:
    conn = await asyncpg.connect(plain_url(url))
    try:
        started = time.perf_counter()
        below = int(await conn.fetchval("SELECT coalesce(min(id), 0) FROM learning.heartbeats"))
        for at in range(0, rows, 500_000):
            n = min(500_000, rows - at)
            await conn.execute(FILL, n, timedelta(days=40), below - (rows - at - n))
        await conn.execute("VACUUM ANALYZE learning.heartbeats")
        # The backlog's own writing must not land on run A.
        await conn.execute("CHECKPOINT")
        return time.perf_counter() - started
    finally:
        await conn.close()


async def count_old(url: str) -> int:
    conn = await asyncpg.connect(plain_url(url))
    try:
        return int(
            await conn.fetchval(
                "SELECT count(*) FROM learning.heartbeats WHERE session_id = 'bench-old'"
            )
        )
    finally:
        await conn.close()


def line(label: str, t: Tally) -> str:
    s = t.summary()
    return f"  {label:<44}{s['rps']:>8.0f}{s['p50_ms']:>9.1f}{s['p99_ms']:>9.1f}  {s['statuses']}"


async def bench(
    *, backlog: int, rate: float, seconds: float, batch: int, teachers: int, rounds: int
) -> dict[str, Any]:
    # The services' own housekeeping is off (the harness prunes, when it chooses to); the
    # platform's processes take their environment from this one's, which is put back after.
    was = os.environ.get("HOUSEKEEPING_ENABLED")
    os.environ["HOUSEKEEPING_ENABLED"] = "false"
    try:
        return await _bench(
            backlog=backlog,
            rate=rate,
            seconds=seconds,
            batch=batch,
            teachers=teachers,
            rounds=rounds,
        )
    finally:
        if was is None:
            os.environ.pop("HOUSEKEEPING_ENABLED", None)
        else:
            os.environ["HOUSEKEEPING_ENABLED"] = was


async def _bench(
    *, backlog: int, rate: float, seconds: float, batch: int, teachers: int, rounds: int
) -> dict[str, Any]:
    async with platform(teachers, workers=1, gateway_workers=1, window_ms=2.0, pool_size=40) as (
        targets,
        roster,
        url,
    ):
        direct = targets["heartbeat_direct"]
        await warm_tokens(direct, roster, concurrency=64)
        results = []
        for _ in range(rounds):
            filled_in = await fill(url, backlog)
            runs: dict[str, Tally] = {}
            runs["A"] = await fixed_rate(
                direct, roster, rate=rate, seconds=seconds, connections=256
            )
            engine = make_engine(url, pool_size=1)
            keeper = Housekeeper(
                engine=engine,
                schema="learning",
                jobs=heartbeat_log_jobs(Settings()),
                interval=3600,
                batch_size=batch,
            )
            started = time.perf_counter()
            pruning = asyncio.create_task(keeper.run_once())
            runs["B"] = await fixed_rate(
                direct, roster, rate=rate, seconds=seconds, connections=256
            )
            still_pruning = not pruning.done()
            done = await pruning
            pruned_in = time.perf_counter() - started
            await engine.dispose()
            left = await count_old(url)
            runs["A'"] = await fixed_rate(
                direct, roster, rate=rate, seconds=seconds, connections=256
            )
            results.append(
                {
                    "filled_in_s": filled_in,
                    "runs": runs,
                    "deleted": (done or {}).get("heartbeats", 0),
                    "pruned_in_s": pruned_in,
                    "pruning_outlasted_run_b": still_pruning,
                    "old_rows_left": left,
                }
            )
    return {"backlog": backlog, "rounds": results}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--backlog", type=int, default=1_000_000)
    parser.add_argument("--rate", type=float, default=1000.0)
    parser.add_argument("--seconds", type=float, default=15.0)
    parser.add_argument("--batch", type=int, default=1000, help="HOUSEKEEPING_BATCH_SIZE")
    parser.add_argument("--teachers", type=int, default=2000)
    parser.add_argument("--rounds", type=int, default=2)
    args = parser.parse_args()
    r = uvloop.run(
        bench(
            backlog=args.backlog,
            rate=args.rate,
            seconds=args.seconds,
            batch=args.batch,
            teachers=args.teachers,
            rounds=args.rounds,
        )
    )
    print(
        f"heartbeat log pruning: {r['backlog']:,} rows 40 days old per round, POST /progress "
        f"direct at {args.rate:.0f}/s, batches of {args.batch}"
    )
    print(f"  {'run':<44}{'req/s':>8}{'p50 ms':>9}{'p99 ms':>9}  statuses")
    for n, rd in enumerate(r["rounds"], 1):
        print(f"  round {n} (backlog written in {rd['filled_in_s']:.0f}s, then a checkpoint)")
        print(line("A   heartbeats alone", rd["runs"]["A"]))
        print(line("B   heartbeats while the backlog is pruned", rd["runs"]["B"]))
        print(line("A'  heartbeats alone, after", rd["runs"]["A'"]))
        rate = rd["deleted"] / rd["pruned_in_s"] if rd["pruned_in_s"] else 0.0
        print(
            f"  pruned {rd['deleted']:,} rows in {rd['pruned_in_s']:.1f}s ({rate:,.0f} rows/s); "
            f"pruning {'outlasted' if rd['pruning_outlasted_run_b'] else 'ended within'} run B; "
            f"old rows left: {rd['old_rows_left']:,}"
        )


if __name__ == "__main__":
    main()
