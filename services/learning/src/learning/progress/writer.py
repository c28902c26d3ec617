"""The process's heartbeat writer: one batcher per running service, started on first use. Each
batch is verified and written in one transaction, committed here (this is the boundary that
commits, as the request dependency is for ordinary routes)."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Sequence
from typing import cast

from prometheus_client import Counter, Histogram
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import create_async_engine

from learning.config import Settings
from learning.progress.batcher import Batcher
from learning.progress.service import Beat, Outcome, Policy, Result, process_heartbeats
from learning.progress.verification import Limits
from yanxiu.kit.app import Runtime
from yanxiu.kit.db import asyncpg_url, make_session_factory

HEARTBEATS = Counter(
    "learning_heartbeats_total",
    "Heartbeats judged, by outcome (accepted or the refusal)",
    ["outcome"],
)
BATCH_SIZE = Histogram(
    "learning_heartbeat_batch_size",
    "Heartbeats per written batch",
    buckets=(1, 5, 10, 25, 50, 100, 250, 500, 1000, 5000),
)
RETRIES = 3
log = logging.getLogger(__name__)
Group = list[Beat]  # one request's heartbeats: never split across batches, order kept
HeartbeatBatcher = Batcher[Group, list[Result]]
_KEY = "progress.batcher"


def _retryable(exc: DBAPIError) -> bool:
    code = getattr(exc.orig, "sqlstate", None) or getattr(exc.orig, "pgcode", None)
    return code in ("40P01", "40001") or "deadlock" in str(exc.orig).lower()


def policy_of(settings: Settings) -> Policy:
    return Policy(
        limits=Limits(
            max_rate=settings.progress_max_rate,
            tolerance=settings.progress_tolerance_seconds,
            max_bank=settings.progress_max_bank_seconds,
        ),
        watch_ratio=settings.progress_watch_ratio,
    )


def heartbeat_batcher(rt: Runtime) -> HeartbeatBatcher:
    """The runtime's batcher, created (with its task, which stops with the runtime) once."""
    found = rt.extras.get(_KEY)
    if found is not None:
        return cast(HeartbeatBatcher, found)
    settings = cast(Settings, rt.settings)
    policy = policy_of(settings)
    # Its own small pool, one connection per batch in flight, without the per-checkout ping of
    # the request pool (a round trip per batch); a dead connection fails one batch, then is
    # replaced.
    engine = create_async_engine(
        asyncpg_url(settings.database_url),
        pool_size=settings.progress_batch_concurrency,
        max_overflow=1,
        pool_pre_ping=False,
    )
    sessions = make_session_factory(engine)

    async def flush(groups: Sequence[Group]) -> list[list[Result]]:
        beats = [b for g in groups for b in g]
        for attempt in range(1, RETRIES + 1):
            try:
                async with sessions() as session, session.begin():
                    results = await process_heartbeats(session, beats=beats, policy=policy)
                break
            except DBAPIError as exc:
                # Two processes' batches that first meet the same new teacher can deadlock;
                # PostgreSQL aborts one, and running it again is all it takes.
                if attempt == RETRIES or not _retryable(exc):
                    raise
                log.warning("heartbeat batch retried", extra={"error": repr(exc.orig)})
        BATCH_SIZE.observe(len(beats))
        for r in results:
            HEARTBEATS.labels(r.outcome if isinstance(r, Outcome) else r.code).inc()
        out: list[list[Result]] = []
        at = 0
        for g in groups:
            out.append(results[at : at + len(g)])
            at += len(g)
        return out

    batcher: HeartbeatBatcher = Batcher(
        flush,
        max_size=settings.progress_batch_max,
        window_seconds=settings.progress_batch_window_ms / 1000,
        concurrency=settings.progress_batch_concurrency,
    )
    rt.extras[_KEY] = batcher

    async def run() -> None:
        try:
            await batcher.run()
        finally:
            await engine.dispose()

    rt.tasks.append(asyncio.create_task(run(), name="learning-progress-batcher"))
    return batcher
