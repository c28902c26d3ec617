"""The outbox relay: publishes committed outbox rows to Kafka, in order, at least once, and
makes sure the broker keeps them.

Rows are marked published only after the broker acknowledged every message of the batch, with
the partition and offset it acknowledged each at, so a relay killed mid-batch re-sends that batch
on restart (consumers dedupe by event id). One relay per schema works at a time (a
transaction-scoped advisory lock), which keeps each key's events in commit order. LISTEN/NOTIFY
wakes it the moment an outbox row commits. Where spans are exported (yanxiu.kit.telemetry) each
publish is a span in the event's trace, and the record's `traceparent` names it.

An acknowledgement is not the end of it: a broker can lose what it acknowledged (the embedded
Tansu keeps nothing across a restart). Every few seconds, after any failure, and whenever the
broker acknowledges an offset at or below one it acknowledged before, the relay checks that the
broker still holds what the outbox says it was given (yanxiu.kit.broker_loss). What it lost is
put back in the queue and sent again, in the original order, on the topics as they should be;
the log says so, `yanxiu_relay_broker_resets_total` counts it and /readyz reports `events`
failing ("degraded", still 200: the outbox takes writes) until every lost event is delivered
again."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
import zlib
from collections.abc import Sequence
from datetime import datetime
from typing import Any

import asyncpg
from aiokafka import AIOKafkaProducer
from opentelemetry.trace import Span
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from yanxiu.kit import telemetry
from yanxiu.kit.broker import ensure_topics, recreate_topics
from yanxiu.kit.broker_loss import Finding, Loss, find_loss
from yanxiu.kit.broker_probe import BrokerProbe
from yanxiu.kit.cancellation import stop_if_asked
from yanxiu.kit.db import plain_url
from yanxiu.kit.metrics import (
    OUTBOX_OLDEST_AGE,
    OUTBOX_UNPUBLISHED,
    RELAY_BROKER_RESETS,
    RELAY_ERRORS,
    RELAY_PUBLISHED,
    RELAY_REQUEUED,
)
from yanxiu.kit.outbox_store import Backlog, OutboxStore, TopicPartition
from yanxiu.kit.settings import KitSettings
from yanxiu.kit.tables import outbox_channel
from yanxiu.kit.tracecontext import of_payload as trace_of
from yanxiu.kit.writes import CONNECTION_LOST

log = logging.getLogger(__name__)


# One relay per schema at a time: a lock held until the batch's transaction ends.
_TRY_LOCK = "SELECT pg_try_advisory_xact_lock($1)"


class AcknowledgedBackwards(Exception):
    """The broker acknowledged a write at an offset at or below one it acknowledged before in
    the same partition: the log it writes to is not the one the relay wrote to."""


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
        topics: Sequence[str] = (),
        ensure: Sequence[str] = (),
        check_interval: float | None = None,
        max_unpublished_age: float | None = None,
    ) -> None:
        """`topics`: the outbox topics (unprefixed) this schema publishes, watched even before
        anything was published to them (the topics rows name are watched in any case). `ensure`:
        other topics of the service (its dead-letter topic) to create again when missing."""
        self.engine = engine
        self.producer = producer
        self.schema = schema
        self.settings = settings
        self.batch_size = batch_size
        self.poll_interval = poll_interval
        self.topics = list(topics)
        self.ensure = list(ensure)
        self.check_interval = check_interval or settings.relay_check_interval_seconds
        self.max_unpublished_age = max_unpublished_age or settings.relay_max_unpublished_age_seconds
        self.store = OutboxStore(schema)
        # Decided once: None where spans are not exported, and then no event costs anything.
        self._tracer = telemetry.tracer()
        self.probe = BrokerProbe(settings)
        self._wake = asyncio.Event()
        self._lock_id = zlib.crc32(f"outbox:{schema}".encode())
        # What the broker should hold, as far as this process knows; the outbox has the truth,
        # read again at every check.
        self._acked: dict[TopicPartition, int] = {}
        self._cluster_id: str | None = None
        self._partitions: dict[str, int] = {}  # partition counts last seen intact
        self._next_check = 0.0  # monotonic time; 0: check before sending anything
        # Readiness: the last failure (None once a batch went through), a loss found but not
        # yet repaired, and the highest requeued row id still to be sent again.
        self._failure: str | None = None
        self._unrepaired: str | None = None
        self._resending_upto: int | None = None

    async def _locked(self, conn: AsyncConnection) -> bool:
        return bool(
            await conn.scalar(text("SELECT pg_try_advisory_xact_lock(:k)"), {"k": self._lock_id})
        )

    async def publish_batch(self) -> int:
        """Send one batch; returns how many rows were published (0 if another relay holds
        the lock or nothing waits).

        Its four statements (the lock, the rows, the marks, the commit) go to the driver on a
        connection of the engine's pool: through SQLAlchemy's execution path each cost ~200 µs
        of CPU, and when writes arrive one at a time every write is a batch of its own (the
        relay was ~9 % of a service's CPU under `POST /teachers`). A connection that fails
        under them is taken out of the pool, as SQLAlchemy does for its own statements."""
        async with self.engine.connect() as sa_conn:
            raw = await sa_conn.get_raw_connection()
            conn = raw.driver_connection
            assert isinstance(conn, asyncpg.Connection)
            try:
                published = await self._publish_on(conn)
            except BaseException as error:
                # A connection lost, or left inside the batch's transaction (its rollback
                # failed or was cut short): never handed out again.
                lost = isinstance(error, CONNECTION_LOST) or conn.is_closed()
                if lost or conn.is_in_transaction():
                    if isinstance(error, Exception):
                        await sa_conn.invalidate(error)
                    else:
                        conn.terminate()
                raise
        if published:
            RELAY_PUBLISHED.labels(self.schema).inc(published)
        return published

    async def _publish_on(self, conn: asyncpg.Connection) -> int:
        async with conn.transaction():
            if not await conn.fetchval(_TRY_LOCK, self._lock_id):
                return 0
            rows = await conn.fetch(self.store.next_sql, self.batch_size)
            if not rows:
                return 0
            futures = []
            tracer = self._tracer
            spans: list[Span] = []
            try:
                for row in rows:
                    payload = bytes(row["payload"])
                    topic = self.settings.topic(row["topic"])
                    headers = [("type", row["event_type"].encode())]
                    if tracer is None:
                        parent = trace_of(payload)
                        if parent is not None:
                            headers.append(("traceparent", parent))
                    else:
                        span = telemetry.publish_span(
                            tracer,
                            topic=topic,
                            key=row["key"],
                            event_type=row["event_type"],
                            payload=payload,
                        )
                        spans.append(span)
                        headers.append(("traceparent", telemetry.traceparent_of(span)))
                    futures.append(
                        await self.producer.send(
                            topic, value=payload, key=row["key"].encode(), headers=headers
                        )
                    )
                acks = await asyncio.gather(*futures)
            except BaseException as error:
                if spans:
                    telemetry.failed(spans, error)
                raise
            if spans:
                telemetry.published(spans, acks)
            acked = dict(self._acked)
            for row, ack in zip(rows, acks, strict=True):
                tp = (row["topic"], ack.partition)
                if ack.offset <= acked.get(tp, -1):
                    # Rolled back: the rows stay queued until the check says where they belong.
                    raise AcknowledgedBackwards(
                        f"{row['topic']}[{ack.partition}] acknowledged at offset {ack.offset}, "
                        f"at or below {acked[tp]} acknowledged before"
                    )
                acked[tp] = ack.offset
            await conn.execute(
                self.store.mark_sql,
                [r["id"] for r in rows],
                [a.partition for a in acks],
                [a.offset for a in acks],
            )
        self._acked = acked
        return len(rows)

    async def check_broker(self) -> Loss:
        """Compare the broker with the outbox; repair what it lost (topics made again, rows
        queued again). Returns the loss found (empty when all is well)."""
        async with self.engine.begin() as conn:
            if not await self._locked(conn):
                # Another replica is sending (and checks for itself): look again shortly.
                self._next_check = time.monotonic() + 1.0
                return Loss()
            found = await find_loss(
                conn,
                store=self.store,
                probe=self.probe,
                settings=self.settings,
                topics=self.topics,
                also=self.ensure,
                cluster_id=self._cluster_id,
            )
            requeued, upto = 0, None
            if found.loss:
                self._unrepaired = _describe(found.loss)
                requeued, upto = await self._repair(conn, found)
            if found.absent:
                await ensure_topics(self.settings, [self.settings.topic(t) for t in found.absent])
            backlog = await self.store.backlog(conn)
            OUTBOX_UNPUBLISHED.labels(self.schema).set(await self.store.unpublished(conn))
        self._remember(found)
        self._next_check = time.monotonic() + self.check_interval
        if found.loss:
            self._unrepaired = None
            if upto is not None:
                self._resending_upto = max(upto, self._resending_upto or 0)
            RELAY_BROKER_RESETS.labels(self.schema).inc()
            RELAY_REQUEUED.labels(self.schema).inc(requeued)
            log.warning(
                "the broker lost events it had acknowledged; sending them again",
                extra={
                    "schema": self.schema,
                    "requeued": requeued,
                    "topics": found.loss.topics,
                    "partitions": {f"{t}[{p}]": f for (t, p), f in found.loss.tails.items()},
                    "cluster_id": found.view.cluster_id,
                },
            )
            # The producer's idea of the topics' partitions predates their re-creation.
            with contextlib.suppress(Exception):
                async with asyncio.timeout(5.0):
                    await self.producer.client.force_metadata_update()
        self._note(backlog)
        return found.loss

    async def _repair(self, conn: AsyncConnection, found: Finding) -> tuple[int, int | None]:
        # A topic whose log is not ours is replaced by an empty one of the right size: what it
        # holds is at best copies of rows about to be sent again, at worst unreadable.
        if found.loss.topics:
            await recreate_topics(
                self.settings,
                {
                    self.settings.topic(t): self._partitions.get(t, self.settings.kafka_partitions)
                    for t in found.loss.topics
                },
            )
        return await self.store.requeue(conn, topics=set(found.loss.topics), tails=found.loss.tails)

    def _remember(self, found: Finding) -> None:
        loss = found.loss
        acked = {tp: o for tp, o in found.acknowledged.items() if tp[0] not in loss.topics}
        for tp, first_lost in loss.tails.items():
            if first_lost > 0:
                acked[tp] = min(acked.get(tp, first_lost - 1), first_lost - 1)
            else:
                acked.pop(tp, None)
        self._acked = acked
        if found.view.cluster_id:
            self._cluster_id = found.view.cluster_id
        for topic in {*self.topics, *(t for t, _ in found.acknowledged)}:
            count = found.view.partitions.get(self.settings.topic(topic))
            if count and topic not in loss.topics:
                self._partitions[topic] = count

    def _note(self, backlog: Backlog) -> None:
        OUTBOX_OLDEST_AGE.labels(self.schema).set(backlog.oldest_age)
        if self._resending_upto is not None and (
            backlog.oldest_id is None or backlog.oldest_id > self._resending_upto
        ):
            log.warning("events the broker lost are delivered again", extra={"schema": self.schema})
            self._resending_upto = None

    async def readiness(self) -> str:
        """For /readyz: "ok", or why this service's events are not being delivered."""
        try:
            async with self.engine.connect() as conn, asyncio.timeout(2.0):
                backlog = await self.store.backlog(conn)
                # Every replica reports the backlog, not only the one holding the relay lock
                # (Prometheus takes the max across them).
                OUTBOX_UNPUBLISHED.labels(self.schema).set(await self.store.unpublished(conn))
        except Exception as exc:
            return f"error: outbox unreadable ({type(exc).__name__})"
        self._note(backlog)
        if self._unrepaired:
            return f"error: the broker lost events ({self._unrepaired}); not yet repaired"
        if self._resending_upto is not None:
            return "error: sending again events the broker lost"
        if self._failure:
            return f"error: relay failing ({self._failure})"
        if backlog.oldest_age > self.max_unpublished_age:
            return f"error: oldest unpublished event waiting {backlog.oldest_age:.0f} s"
        return "ok"

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
        try:
            while True:
                stop_if_asked()
                self._wake.clear()
                try:
                    if time.monotonic() >= self._next_check:
                        await self.check_broker()
                    sent = await self.publish_batch()
                except asyncio.CancelledError:
                    raise
                except AcknowledgedBackwards as exc:
                    RELAY_ERRORS.labels(self.schema).inc()
                    self._failure = str(exc)
                    self._next_check = 0.0
                    log.warning(
                        "the broker acknowledged below what it acknowledged before; checking "
                        "what it lost",
                        extra={"schema": self.schema, "error": str(exc)},
                    )
                    continue
                except Exception as exc:
                    RELAY_ERRORS.labels(self.schema).inc()
                    self._failure = repr(exc)[:300]
                    # Whatever failed, the broker may have changed meanwhile: check before
                    # sending anything more.
                    self._next_check = 0.0
                    log.warning(
                        "relay batch failed; will retry",
                        extra={"schema": self.schema, "error": repr(exc), "retry_in": backoff},
                    )
                    await asyncio.sleep(backoff)
                    backoff = min(backoff * 2, 5.0)
                    continue
                backoff = 0.2
                self._failure = None
                if sent == self.batch_size:
                    continue
                wait = min(self.poll_interval, self._next_check - time.monotonic())
                # asyncio.timeout, not wait_for: on 3.11 wait_for can lose a cancellation
                # that arrives as the wake-up does, and the relay would not stop.
                with contextlib.suppress(TimeoutError):
                    async with asyncio.timeout(max(wait, 0.0)):
                        await self._wake.wait()
        finally:
            if listener is not None:
                with contextlib.suppress(Exception):
                    await listener.close()
            with contextlib.suppress(Exception):
                await self.probe.close()


def _describe(loss: Loss) -> str:
    parts = [f"{t}: {why}" for t, why in loss.topics.items()]
    parts += [f"{t}[{p}] from offset {f}" for (t, p), f in loss.tails.items()]
    return "; ".join(parts)


async def replay_outbox(engine: AsyncEngine, schema: str, *, since: datetime) -> int:
    """Mark outbox rows written since `since` unpublished again, so the relay re-sends them
    (within its next poll). The relay does this by itself for what it finds a broker lost
    (yanxiu.kit.broker_loss); this is the operator's way to send a window again regardless.
    Published rows are kept for OUTBOX_RETENTION_HOURS (72 h; yanxiu.kit.housekeeping), and
    consumers' inboxes make the copies harmless. Returns the row count."""
    async with engine.begin() as conn:
        result = await conn.execute(
            text(
                f"UPDATE {schema}.outbox SET published_at = NULL, kafka_partition = NULL, "
                "kafka_offset = NULL WHERE created_at >= :since AND published_at IS NOT NULL"
            ),
            {"since": since},
        )
    return int(result.rowcount or 0)
