"""死信队列 (the dead-letter queue): what the consumers parked, and what an operator does with it.

A consumer parks a message it can never handle in its service's `<service>.dlq.v1` topic
(`yanxiu.kit.consumer`): the record as it came (key, value, its own headers, `type` among them)
with `error`, `consumer`, `source_topic`, `source_partition`, `source_offset` and `attempts`
added. Kafka cannot delete one record, so what became of each is kept beside it, in the
service's `dlq_dispositions` table (partition, offset and the record's timestamp, which tells a
record from the one a re-created topic later put at the same offset):

- **replay**: the record goes back to its source topic with its original key, value and
  headers (plus `replayed_from`), then is marked replayed. A replay cut short between the two
  is replayed again; the consumers' inbox drops the second copy, as for any redelivery.
- **drop**: marked dropped, with who and why; nothing is sent.

The same operations serve `yanxiu dlq …` (stack.dlq) and the province operator's endpoints
(`yanxiu.kit.dlq_api`). A dead-letter topic is small by design (a message lands there only when
a rule will never accept it), so a listing reads the topic from its start, up to `MAX_SCAN`."""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from typing import Any, Literal

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, ConsumerRecord, TopicPartition
from sqlalchemy import Table, func, select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, AsyncSession

from yanxiu.kit.cancellation import stop_if_asked
from yanxiu.kit.metrics import DLQ_MESSAGES
from yanxiu.kit.settings import KitSettings

log = logging.getLogger(__name__)

DLQ_HEADERS = frozenset(
    {"error", "consumer", "source_topic", "source_partition", "source_offset", "attempts"}
)
"""What a dead-letter record says of itself; taken off again when it is replayed."""
MAX_SCAN = 50_000
SCAN_SECONDS = 20.0
Status = Literal["waiting", "replayed", "dropped"]


def dlq_topic_name(service: str) -> str:
    """The dead-letter topic of a service (before the settings' topic prefix)."""
    return f"{service}.dlq.v1"


@dataclass(frozen=True)
class DeadLetter:
    partition: int
    offset: int
    at: datetime  # when it was parked (the record's timestamp)
    key: bytes | None
    value: bytes
    headers: tuple[tuple[str, bytes], ...]
    status: Status = "waiting"
    settled_by: str | None = None
    reason: str | None = None

    def header(self, name: str) -> str | None:
        for key, value in self.headers:
            if key == name:
                return value.decode("utf-8", "replace")
        return None

    @property
    def event_type(self) -> str:
        return self.header("type") or "unknown"

    @property
    def error(self) -> str:
        return self.header("error") or ""

    @property
    def consumer(self) -> str:
        return self.header("consumer") or ""

    @property
    def source_topic(self) -> str | None:
        return self.header("source_topic")

    def summary(self) -> dict[str, Any]:
        """What a listing shows of it (no payload: it may hold personal data)."""
        return {
            "partition": self.partition,
            "offset": self.offset,
            "at": self.at,
            "event_type": self.event_type,
            "consumer": self.consumer,
            "error": self.error,
            "source_topic": self.source_topic,
            "source_partition": _int(self.header("source_partition")),
            "source_offset": _int(self.header("source_offset")),
            "attempts": _int(self.header("attempts")),
            "key": self.key.decode("utf-8", "replace") if self.key is not None else None,
            "status": self.status,
            "settled_by": self.settled_by,
            "reason": self.reason,
        }

    def payload(self) -> Any:
        """The parked message: its JSON if it is JSON, else its text."""
        text = self.value.decode("utf-8", "replace")
        try:
            return json.loads(text)
        except ValueError:
            return text


def _int(value: str | None) -> int | None:
    return int(value) if value is not None and value.lstrip("-").isdigit() else None


@dataclass(frozen=True)
class Filter:
    """Which dead letters: by event type, consumer, a piece of the error, when they were
    parked, and whether settled ones (replayed or dropped) are included."""

    types: frozenset[str] = field(default_factory=frozenset)
    consumer: str | None = None
    error: str | None = None
    since: datetime | None = None
    until: datetime | None = None
    settled: bool = False

    def admits(self, letter: DeadLetter) -> bool:
        return (
            (self.settled or letter.status == "waiting")
            and (not self.types or letter.event_type in self.types)
            and (self.consumer is None or letter.consumer == self.consumer)
            and (self.error is None or self.error.lower() in letter.error.lower())
            and (self.since is None or letter.at >= self.since)
            and (self.until is None or letter.at < self.until)
        )


class DeadLetters:
    """One service's dead-letter topic and the dispositions of its records."""

    def __init__(self, *, settings: KitSettings, service: str, table: Table) -> None:
        self.settings = settings
        self.service = service
        self.topic = settings.topic(dlq_topic_name(service))
        self.table = table

    async def read(self, conn: AsyncConnection | AsyncSession, where: Filter) -> list[DeadLetter]:
        """The dead letters `where` admits, newest first."""
        letters = await self._with_status(conn, await self._scan())
        return sorted(
            (x for x in letters if where.admits(x)),
            key=lambda x: (x.at, x.partition, x.offset),
            reverse=True,
        )

    async def find(
        self, conn: AsyncConnection | AsyncSession, partition: int, offset: int
    ) -> DeadLetter | None:
        return (await self.find_many(conn, [(partition, offset)])).get((partition, offset))

    async def find_many(
        self, conn: AsyncConnection | AsyncSession, refs: Sequence[tuple[int, int]]
    ) -> dict[tuple[int, int], DeadLetter]:
        """The letters at these (partition, offset) places that the topic holds: one read of
        the partitions named, however many are asked for."""
        wanted = set(refs)
        if not wanted:
            return {}
        scanned = await self._scan({p for p, _ in wanted})
        found = [x for x in scanned if (x.partition, x.offset) in wanted]
        return {(x.partition, x.offset): x for x in await self._with_status(conn, found)}

    async def replay(
        self,
        session: AsyncSession | AsyncConnection,
        letters: Sequence[DeadLetter],
        *,
        producer: AIOKafkaProducer,
        actor: str,
    ) -> int:
        """Send each back to its source topic, then mark it replayed (in the session's
        transaction: the caller commits). A letter with no source topic is skipped."""
        done = []
        for letter in letters:
            source = letter.source_topic
            if source is None:
                continue
            headers = [(k, v) for k, v in letter.headers if k not in DLQ_HEADERS]
            headers.append(
                ("replayed_from", f"{self.topic}[{letter.partition}]@{letter.offset}".encode())
            )
            await producer.send_and_wait(
                source, value=letter.value, key=letter.key, headers=headers
            )
            done.append(letter)
        await self._settle(session, done, action="replayed", actor=actor, reason=None)
        return len(done)

    async def drop(
        self,
        session: AsyncSession | AsyncConnection,
        letters: Sequence[DeadLetter],
        *,
        actor: str,
        reason: str,
    ) -> int:
        """Mark each dropped: it stays in the topic, settled, and is no longer counted."""
        await self._settle(session, letters, action="dropped", actor=actor, reason=reason)
        return len(letters)

    async def depth(self, conn: AsyncConnection | AsyncSession) -> int:
        """How many records of the topic wait: all it holds minus those settled."""
        t = self.table.c
        waiting = 0
        for partition, (start, end) in (await self._bounds()).items():
            settled = await conn.scalar(
                select(func.count()).where(
                    t.dlq_partition == partition, t.dlq_offset >= start, t.dlq_offset < end
                )
            )
            waiting += max(end - start - int(settled or 0), 0)
        return waiting

    async def _settle(
        self,
        session: AsyncSession | AsyncConnection,
        letters: Iterable[DeadLetter],
        *,
        action: str,
        actor: str,
        reason: str | None,
    ) -> None:
        rows = [
            {
                "dlq_partition": x.partition,
                "dlq_offset": x.offset,
                "record_at": x.at,
                "event_type": x.event_type[:200],
                "action": action,
                "actor": actor[:100],
                "reason": reason,
            }
            for x in letters
        ]
        if not rows:
            return
        stmt = insert(self.table).values(rows)
        await session.execute(
            stmt.on_conflict_do_update(
                index_elements=[self.table.c.dlq_partition, self.table.c.dlq_offset],
                set_={
                    "record_at": stmt.excluded.record_at,
                    "event_type": stmt.excluded.event_type,
                    "action": stmt.excluded.action,
                    "actor": stmt.excluded.actor,
                    "reason": stmt.excluded.reason,
                    "at": func.now(),
                },
            )
        )

    async def _with_status(
        self, conn: AsyncConnection | AsyncSession, letters: list[DeadLetter]
    ) -> list[DeadLetter]:
        if not letters:
            return []
        t = self.table.c
        rows = (
            await conn.execute(
                select(t.dlq_partition, t.dlq_offset, t.record_at, t.action, t.actor, t.reason)
                .where(t.dlq_partition.in_({x.partition for x in letters}))
                .where(t.dlq_offset >= min(x.offset for x in letters))
            )
        ).all()
        settled = {(r.dlq_partition, r.dlq_offset): r for r in rows}
        out = []
        for letter in letters:
            row = settled.get((letter.partition, letter.offset))
            # A disposition of a record a re-created topic no longer holds does not carry over.
            if row is not None and row.record_at == letter.at:
                letter = replace(letter, status=row.action, settled_by=row.actor, reason=row.reason)
            out.append(letter)
        return out

    def _consumer(self) -> AIOKafkaConsumer:
        return AIOKafkaConsumer(
            bootstrap_servers=self.settings.kafka_bootstrap_servers,
            group_id=None,
            enable_auto_commit=False,
            client_id=f"{self.settings.service_name}-dlq",
        )

    async def _bounds(self) -> dict[int, tuple[int, int]]:
        """Each partition's first and next offsets (none if the topic does not exist)."""
        consumer = self._consumer()
        await consumer.start()
        try:
            return await self._bounds_of(consumer)
        finally:
            await consumer.stop()

    async def _bounds_of(self, consumer: AIOKafkaConsumer) -> dict[int, tuple[int, int]]:
        if self.topic not in await consumer.topics():  # fetches the cluster's metadata
            return {}
        partitions = consumer.partitions_for_topic(self.topic) or set()
        tps = [TopicPartition(self.topic, p) for p in sorted(partitions)]
        if not tps:
            return {}
        starts = await consumer.beginning_offsets(tps)
        ends = await consumer.end_offsets(tps)
        return {tp.partition: (starts[tp], ends[tp]) for tp in tps}

    async def _scan(self, only: set[int] | None = None) -> list[DeadLetter]:
        consumer = self._consumer()
        await consumer.start()
        try:
            bounds = await self._bounds_of(consumer)
            tps = [
                TopicPartition(self.topic, p)
                for p, (start, end) in bounds.items()
                if end > start and (only is None or p in only)
            ]
            if not tps:
                return []
            consumer.assign(tps)
            for tp in tps:
                start, end = bounds[tp.partition]
                consumer.seek(tp, max(start, end - MAX_SCAN))
            letters: list[DeadLetter] = []
            left = set(tps)
            deadline = asyncio.get_running_loop().time() + SCAN_SECONDS
            while left and asyncio.get_running_loop().time() < deadline:
                batches = await consumer.getmany(*left, timeout_ms=500)
                for tp, records in batches.items():
                    letters.extend(
                        _letter(r) for r in records if r.offset < bounds[tp.partition][1]
                    )
                    if records and records[-1].offset + 1 >= bounds[tp.partition][1]:
                        left.discard(tp)
            return letters
        finally:
            await consumer.stop()


def _letter(record: ConsumerRecord[bytes, bytes]) -> DeadLetter:
    return DeadLetter(
        partition=record.partition,
        offset=record.offset,
        at=datetime.fromtimestamp(record.timestamp / 1000, UTC),
        key=record.key,
        value=record.value or b"",
        headers=tuple((k, bytes(v)) for k, v in record.headers or ()),
    )


async def count_dead_letters(letters: DeadLetters, engine: AsyncEngine, every: float) -> None:
    """Keep `yanxiu_dlq_messages` of the service up to date (every process counts; Prometheus
    takes any one of them). The first count comes after `every`: a process that lives a few
    seconds (a test, a one-off command) does not pay for it."""
    gauge = DLQ_MESSAGES.labels(letters.service)
    while True:
        stop_if_asked()
        await asyncio.sleep(every)
        try:
            async with engine.connect() as conn:
                gauge.set(await letters.depth(conn))
        except asyncio.CancelledError:
            raise
        except Exception as exc:  # the broker or database away: the next round tries again
            log.warning("could not count dead letters", extra={"error": repr(exc)})
