"""The outbox relay: publishes committed outbox rows to Kafka, in order, at least once.

Rows are marked published only after the broker acknowledged every message of the batch, so
a relay killed mid-batch re-sends that batch on restart (consumers dedupe by event id). One
relay per schema works at a time (a transaction-scoped advisory lock), which keeps each key's
events in commit order. LISTEN/NOTIFY wakes it the moment an outbox row commits.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import zlib
from datetime import datetime
from typing import Any

import asyncpg
from aiokafka import AIOKafkaProducer
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from yanxiu.kit.db import plain_url
from yanxiu.kit.metrics import RELAY_PUBLISHED
from yanxiu.kit.settings import KitSettings
from yanxiu.kit.tables import outbox_channel

log = logging.getLogger(__name__)


class OutboxRelay:
    def __init__(
        self,
        *,
        engine: AsyncEngine,
        producer: AIOKafkaProducer,
        schema: str,
        settings: KitSettings,
        batch_size: int = 500,
        poll_interval: float = 1.0,
        retention_hours: int = 72,
    ) -> None:
        self.engine = engine
        self.producer = producer
        self.schema = schema
        self.settings = settings
        self.batch_size = batch_size
        self.poll_interval = poll_interval
        self.retention_hours = retention_hours
        self._wake = asyncio.Event()
        self._lock_id = zlib.crc32(f"outbox:{schema}".encode())
        self._select = text(
            f"SELECT id, topic, key, event_type, payload FROM {schema}.outbox "
            "WHERE published_at IS NULL ORDER BY id LIMIT :n FOR UPDATE SKIP LOCKED"
        )
        self._mark = text(f"UPDATE {schema}.outbox SET published_at = now() WHERE id = ANY(:ids)")

    async def publish_batch(self) -> int:
        """Send one batch; returns how many rows were published (0 if another relay holds
        the lock or nothing waits)."""
        async with self.engine.begin() as conn:
            got = await conn.scalar(
                text("SELECT pg_try_advisory_xact_lock(:k)"), {"k": self._lock_id}
            )
            if not got:
                return 0
            rows = (await conn.execute(self._select, {"n": self.batch_size})).all()
            if not rows:
                return 0
            futures = []
            for row in rows:
                futures.append(
                    await self.producer.send(
                        self.settings.topic(row.topic),
                        value=bytes(row.payload),
                        key=row.key.encode(),
                        headers=[("type", row.event_type.encode())],
                    )
                )
            await asyncio.gather(*futures)
            await conn.execute(self._mark, {"ids": [r.id for r in rows]})
        RELAY_PUBLISHED.labels(self.schema).inc(len(rows))
        return len(rows)

    async def purge_published(self) -> None:
        async with self.engine.begin() as conn:
            await conn.execute(
                text(
                    f"DELETE FROM {self.schema}.outbox WHERE published_at < now() - "
                    f"make_interval(hours => {int(self.retention_hours)})"
                )
            )

    async def _listen(self) -> asyncpg.Connection | None:
        try:
            conn = await asyncpg.connect(plain_url(self.settings.database_url))
        except (OSError, asyncpg.PostgresError) as exc:
            log.warning("relay LISTEN unavailable, polling only", extra={"error": str(exc)})
            return None

        def wake(*_: Any) -> None:
            self._wake.set()

        await conn.add_listener(outbox_channel(self.schema), wake)
        return conn

    async def run(self) -> None:
        listener = await self._listen()
        backoff = 0.2
        loops = 0
        try:
            while True:
                self._wake.clear()
                try:
                    sent = await self.publish_batch()
                    backoff = 0.2
                except asyncio.CancelledError:
                    raise
                except Exception as exc:
                    log.warning(
                        "relay batch failed; will retry",
                        extra={"error": repr(exc), "retry_in": backoff},
                    )
                    await asyncio.sleep(backoff)
                    backoff = min(backoff * 2, 5.0)
                    continue
                if sent == self.batch_size:
                    continue
                loops += 1
                if loops % 600 == 0:
                    with contextlib.suppress(Exception):
                        await self.purge_published()
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._wake.wait(), self.poll_interval)
        finally:
            if listener is not None:
                with contextlib.suppress(Exception):
                    await listener.close()


async def replay_outbox(engine: AsyncEngine, schema: str, *, since: datetime) -> int:
    """Mark outbox rows written since `since` unpublished again, so the relay re-sends them
    (within its next poll). This is the recovery when a broker lost acknowledged messages, as
    the in-memory dev broker does on a restart. Published rows are kept for the relay's
    retention (72 h), and consumers' inboxes make the copies harmless. Returns the row count."""
    async with engine.begin() as conn:
        result = await conn.execute(
            text(
                f"UPDATE {schema}.outbox SET published_at = NULL "
                "WHERE created_at >= :since AND published_at IS NOT NULL"
            ),
            {"since": since},
        )
    return int(result.rowcount or 0)
