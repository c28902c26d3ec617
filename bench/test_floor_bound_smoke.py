"""The floor-bound benchmark still runs: the floor and the least-work app (FastAPI and plain ASGI)
come up, every side answers 2xx for a second of load, and each write of the least-work app left
its record, history, audit and outbox rows together (one statement). Figures come from running
the module."""

from __future__ import annotations

import asyncpg

from bench import floor_bound
from bench.floor_bound_app import SCHEMA
from bench.platform import DEFAULT_FLOOR_DIR, FLOOR_DATABASE
from bench.smoke import NEEDS_WRK_AND_FLOOR
from yanxiu.devstack.paths import data_dir
from yanxiu.devstack.postgres import create_database, ensure_server
from yanxiu.kit.db import plain_url

pytestmark = NEEDS_WRK_AND_FLOOR


async def test_every_side_answers_and_each_write_leaves_its_four_rows() -> None:
    results = await floor_bound.run(1, 1, 4, DEFAULT_FLOOR_DIR)

    assert set(results) == {(k, s) for k in ("read", "write") for s in floor_bound.SIDES}
    assert all(r.clean and r.requests > 0 for runs in results.values() for r in runs)
    server, _ = await ensure_server(data_dir())
    conn = await asyncpg.connect(plain_url(await create_database(server, FLOOR_DATABASE)))
    try:
        counts = [
            await conn.fetchval(f"select count(*) from {SCHEMA}.{table}")
            for table in ("teachers", "history", "audit", "outbox")
        ]
    finally:
        await conn.close()
    answered = sum(r.requests for side in ("fastapi", "asgi") for r in results[("write", side)])
    teachers, history, audit, outbox = counts
    assert teachers - 1 == history == audit == outbox  # the seeded teacher has no history
    # wrk counts answers it read before its time ran out; a request in flight then (at most one
    # per connection and side) was written but not counted.
    assert answered <= history <= answered + 2 * 4
