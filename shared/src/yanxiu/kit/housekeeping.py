"""Scheduled housekeeping: the tables that grow with traffic are kept bounded, in every service
process, on a schedule, in small batches, by one replica at a time.

Every schema's machinery tables are pruned by age (settings in yanxiu.kit.settings):
- `inbox`: event ids a consumer processed, kept longer than the broker keeps the events (a
  redelivered event must still find its id: 14 days by default, against Kafka's usual 7);
- `idempotency_keys`: stored answers to retried writes (7 days);
- `outbox`: rows the relay published, kept for `yanxiu replay` and re-publishing after a broker
  loss (72 h); unpublished rows are never touched, however old.
A service adds its own jobs (learning's heartbeat log, the gateway's lapsed sign-in sessions)
through `ServiceSpec.housekeeping`.

Three ways to walk a table, each batch its own short transaction, so that no lock is held long
and no vacuum is held back:
- `KeysetPrune`: tables with an increasing id whose age grows with it (outbox, heartbeats): walk
  the primary key from the oldest and stop at the first batch that reaches young rows. Costs
  nothing on the insert path (no extra index) and reads only what it deletes.
- `HeapPrune`: tables keyed otherwise (inbox, idempotency keys: composite text keys, no index
  on their time column): walk the heap a range of pages at a time (a TID range scan).
- `IndexedPrune`: tables with an index on the column that decides (the gateway's sessions).

One replica works at a time: a session-level advisory lock per schema, tried (never waited
for) at each run; the others skip that run."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
import time
import zlib
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import timedelta
from typing import Protocol

from prometheus_client import Counter, Gauge
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from yanxiu.kit.cancellation import stop_if_asked
from yanxiu.kit.db import make_engine
from yanxiu.kit.settings import KitSettings

log = logging.getLogger(__name__)

DELETED = Counter(
    "yanxiu_housekeeping_deleted_total", "Rows removed by housekeeping", ["schema", "job"]
)
LAST_RUN = Gauge(
    "yanxiu_housekeeping_last_run_timestamp_seconds",
    "When this process last completed a housekeeping run (0: never, or another replica's turn)",
    ["schema"],
)
FAILURES = Counter(
    "yanxiu_housekeeping_failures_total", "Housekeeping runs that failed", ["schema"]
)


class Job(Protocol):
    @property
    def name(self) -> str: ...

    async def run(self, conn: AsyncConnection, *, batch_size: int, pause: float) -> int:
        """Remove what is due, a batch per transaction (committed here); returns the count."""
        ...


async def _commit(conn: AsyncConnection, pause: float) -> None:
    await conn.commit()
    # Yield to the service's own work between batches (and, when set, to the database).
    await asyncio.sleep(pause)


@dataclass(frozen=True)
class KeysetPrune:
    """Rows of `table` where `condition` holds (it may use :cutoff), walked in `key` order;
    `order_column` grows with the key (a creation time), so the walk ends at the first batch
    holding a row at least `retention` young: no row after it can be due."""

    name: str
    table: str
    retention: timedelta
    order_column: str
    condition: str
    key: str = "id"

    async def run(self, conn: AsyncConnection, *, batch_size: int, pause: float) -> int:
        cutoff = await conn.scalar(
            text("SELECT now() - CAST(:r AS interval)"), {"r": self.retention}
        )
        step = text(
            f"WITH batch AS (SELECT {self.key} AS k, {self.order_column} AS at FROM {self.table} "
            f"WHERE {self.key} > :after ORDER BY {self.key} LIMIT :n), "
            f"gone AS (DELETE FROM {self.table} t USING batch b WHERE t.{self.key} = b.k "
            f"AND ({self.condition}) RETURNING 1) "
            "SELECT (SELECT count(*) FROM gone), (SELECT max(k) FROM batch), "
            "(SELECT count(*) FROM batch), (SELECT coalesce(bool_or(at >= :cutoff), false) "
            "FROM batch)"
        )
        total, after = 0, -(2**63)  # the smallest bigint: from the very first row
        while True:
            gone, last, seen, reached_young = (
                await conn.execute(step, {"after": after, "n": batch_size, "cutoff": cutoff})
            ).one()
            await _commit(conn, pause)
            total += gone
            if seen < batch_size or reached_young:
                return total
            after = last


@dataclass(frozen=True)
class HeapPrune:
    """Rows of `table` where `condition` holds (it may use :cutoff), found by walking the heap
    a few pages at a time: for tables with no index on the deciding column."""

    name: str
    table: str
    retention: timedelta
    condition: str

    async def run(self, conn: AsyncConnection, *, batch_size: int, pause: float) -> int:
        cutoff, pages, per_page = (
            await conn.execute(
                text(
                    "SELECT now() - CAST(:r AS interval), pg_relation_size(CAST(:t AS regclass)) / "
                    "current_setting('block_size')::int, "
                    "CASE WHEN relpages > 0 AND reltuples > 0 THEN reltuples / relpages "
                    "ELSE 100 END FROM pg_class WHERE oid = CAST(:t AS regclass)"
                ),
                {"r": self.retention, "t": self.table},
            )
        ).one()
        await conn.commit()
        span = max(1, int(batch_size / max(per_page, 1.0)))
        step = text(
            f"DELETE FROM {self.table} "
            "WHERE ctid >= CAST(format('(%s,0)', CAST(:lo AS bigint)) AS tid) "
            "AND ctid < CAST(format('(%s,0)', CAST(:hi AS bigint)) AS tid) "
            f"AND ({self.condition})"
        )
        total = 0
        # Pages added while we walk hold young rows: the size at the start is far enough.
        for lo in range(0, int(pages), span):
            result = await conn.execute(step, {"lo": lo, "hi": lo + span, "cutoff": cutoff})
            await _commit(conn, pause)
            total += int(result.rowcount or 0)
        return total


@dataclass(frozen=True)
class IndexedPrune:
    """Rows of `table` where `condition` holds (it may use :cutoff), found through an index on
    the deciding column, a batch at a time."""

    name: str
    table: str
    retention: timedelta
    condition: str

    async def run(self, conn: AsyncConnection, *, batch_size: int, pause: float) -> int:
        cutoff = await conn.scalar(
            text("SELECT now() - CAST(:r AS interval)"), {"r": self.retention}
        )
        step = text(
            f"DELETE FROM {self.table} WHERE ctid = ANY(ARRAY(SELECT ctid FROM {self.table} "
            f"WHERE {self.condition} LIMIT :n))"
        )
        total = 0
        while True:
            result = await conn.execute(step, {"n": batch_size, "cutoff": cutoff})
            await _commit(conn, pause)
            gone = int(result.rowcount or 0)
            total += gone
            if gone < batch_size:
                return total


def machinery_jobs(schema: str, settings: KitSettings, *, tables: Sequence[str]) -> list[Job]:
    """The pruning every schema's machinery tables get (those of `tables` it has)."""
    jobs: list[Job] = []
    if "inbox" in tables:
        jobs.append(
            HeapPrune(
                name="inbox",
                table=f"{schema}.inbox",
                retention=timedelta(days=settings.inbox_retention_days),
                condition="processed_at < :cutoff",
            )
        )
    if "idempotency_keys" in tables:
        jobs.append(
            HeapPrune(
                name="idempotency_keys",
                table=f"{schema}.idempotency_keys",
                retention=timedelta(days=settings.idempotency_retention_days),
                condition="created_at < :cutoff",
            )
        )
    if "outbox" in tables:
        jobs.append(
            KeysetPrune(
                name="outbox",
                table=f"{schema}.outbox",
                retention=timedelta(hours=settings.outbox_retention_hours),
                order_column="created_at",
                # Unpublished rows never go: NULL is not older than anything.
                condition="t.published_at < :cutoff",
            )
        )
    return jobs


class Housekeeper:
    """Runs `jobs` every `interval` seconds (jittered, so replicas started together spread
    out), the first run soon after startup."""

    def __init__(
        self,
        *,
        engine: AsyncEngine,
        schema: str,
        jobs: Sequence[Job],
        interval: float,
        batch_size: int,
        pause: float = 0.0,
    ) -> None:
        self.engine = engine
        self.schema = schema
        self.jobs = list(jobs)
        self.interval = interval
        self.batch_size = batch_size
        self.pause = pause
        self.lock_key = zlib.crc32(f"housekeeping:{schema}".encode())
        self.runs = 0

    async def run_once(self) -> dict[str, int] | None:
        """One pass over every job; None if another process holds this schema's turn."""
        conn = await self.engine.connect()
        locked = False
        try:
            locked = bool(
                await conn.scalar(text("SELECT pg_try_advisory_lock(:k)"), {"k": self.lock_key})
            )
            await conn.commit()
            if not locked:
                return None
            counts: dict[str, int] = {}
            for job in self.jobs:
                counts[job.name] = await job.run(conn, batch_size=self.batch_size, pause=self.pause)
                DELETED.labels(self.schema, job.name).inc(counts[job.name])
            await conn.execute(text("SELECT pg_advisory_unlock(:k)"), {"k": self.lock_key})
            await conn.commit()
            locked = False
            self.runs += 1
            LAST_RUN.labels(self.schema).set(time.time())
            return counts
        finally:
            if locked:
                # Failed half-way: the session lock must not go back to the pool with the
                # connection. Dropping the connection ends the session and frees the lock.
                with contextlib.suppress(Exception):
                    await conn.invalidate()
            with contextlib.suppress(Exception):
                await conn.close()

    async def run(self) -> None:
        await asyncio.sleep(random.uniform(0.1, 1.0) * min(self.interval, 60.0))
        while True:
            stop_if_asked()
            started = time.monotonic()
            try:
                counts = await self.run_once()
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                FAILURES.labels(self.schema).inc()
                log.warning(
                    "housekeeping failed; next run on schedule",
                    extra={"schema": self.schema, "error": repr(exc)},
                )
            else:
                if counts is not None and any(counts.values()):
                    log.info(
                        "housekeeping",
                        extra={
                            "schema": self.schema,
                            "deleted": counts,
                            "ms": round((time.monotonic() - started) * 1000),
                        },
                    )
            await asyncio.sleep(self.interval * random.uniform(0.9, 1.1))


def start_housekeeping(
    settings: KitSettings, *, schema: str, tables: Sequence[str], extra: Sequence[Job] = ()
) -> asyncio.Task[None] | None:
    """The process's housekeeping task (None when HOUSEKEEPING_ENABLED is off), with its own
    one-connection engine: a long run never takes a connection from the requests' pool."""
    if not settings.housekeeping_enabled:
        return None
    if settings.inbox_retention_days * 24 <= settings.outbox_retention_hours:
        log.warning(
            "inbox retention is not longer than outbox retention: a re-published event could "
            "find its inbox record gone and take effect twice",
            extra={
                "inbox_retention_days": settings.inbox_retention_days,
                "outbox_retention_hours": settings.outbox_retention_hours,
            },
        )
    jobs = [*machinery_jobs(schema, settings, tables=tables), *extra]

    async def run() -> None:
        engine = make_engine(settings.database_url, pool_size=1)
        try:
            await Housekeeper(
                engine=engine,
                schema=schema,
                jobs=jobs,
                interval=settings.housekeeping_interval_seconds,
                batch_size=settings.housekeeping_batch_size,
            ).run()
        finally:
            await engine.dispose()

    return asyncio.create_task(run(), name=f"{schema}-housekeeping")
