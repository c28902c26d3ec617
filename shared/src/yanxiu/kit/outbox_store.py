"""The SQL the relay runs against one schema's outbox: the next rows to send, marking them with
where the broker acknowledged them, what the broker should therefore hold, and putting rows
back in the queue when it turns out it does not."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection

TopicPartition = tuple[str, int]  # (outbox topic, without the deployment's prefix; partition)


@dataclass(frozen=True)
class Backlog:
    oldest_id: int | None
    oldest_age: float  # seconds; 0 when nothing waits


class OutboxStore:
    def __init__(self, schema: str) -> None:
        self.schema = schema
        outbox = f"{schema}.outbox"
        # The relay's batch, sent on the driver (kit.relay.publish_batch): the next rows to
        # send, locked (rows another transaction holds are skipped), then marked with the
        # partition and offset the broker acknowledged each at.
        self.next_sql = (
            f"SELECT id, topic, key, event_type, payload FROM {outbox} "
            "WHERE published_at IS NULL ORDER BY id LIMIT $1 FOR UPDATE SKIP LOCKED"
        )
        self.mark_sql = (
            f"UPDATE {outbox} o SET published_at = now(), kafka_partition = u.p, "
            "kafka_offset = u.o FROM unnest($1::bigint[], $2::int[], $3::bigint[]) "
            "AS u(id, p, o) WHERE o.id = u.id"
        )
        # Walks ix_outbox_kafka_offset one (topic, partition) at a time (a loose index scan),
        # then takes each one's highest offset from the same index: a few index probes however
        # many rows the outbox holds.
        self._acknowledged = text(
            f"""WITH RECURSIVE tp AS (
                  (SELECT topic, kafka_partition AS p FROM {outbox}
                   WHERE kafka_offset IS NOT NULL ORDER BY topic, kafka_partition LIMIT 1)
                  UNION ALL
                  SELECT n.topic, n.p FROM tp CROSS JOIN LATERAL (
                    SELECT o.topic, o.kafka_partition AS p FROM {outbox} o
                    WHERE o.kafka_offset IS NOT NULL
                      AND (o.topic, o.kafka_partition) > (tp.topic, tp.p)
                    ORDER BY o.topic, o.kafka_partition LIMIT 1) n)
                SELECT tp.topic, tp.p, (SELECT max(o.kafka_offset) FROM {outbox} o
                  WHERE o.topic = tp.topic AND o.kafka_partition = tp.p
                    AND o.kafka_offset IS NOT NULL) FROM tp"""
        )
        self._payloads_at = text(
            f"SELECT u.t, u.p, (SELECT o.payload FROM {outbox} o WHERE o.topic = u.t "
            "AND o.kafka_partition = u.p AND o.kafka_offset = u.o ORDER BY o.id DESC LIMIT 1) "
            "FROM unnest(CAST(:ts AS text[]), CAST(:ps AS int[]), CAST(:os AS bigint[])) "
            "AS u(t, p, o)"
        )
        self._has_published = text(
            f"SELECT EXISTS (SELECT 1 FROM {outbox} WHERE topic = :t AND published_at IS NOT NULL)"
        )
        # Published rows of whole topics the broker lost, and of partitions from the first
        # offset it lost; they go back in the queue, to be sent again in id (commit) order.
        self._requeue = text(
            f"""WITH gone AS (
                  UPDATE {outbox} o SET published_at = NULL, kafka_partition = NULL,
                    kafka_offset = NULL
                  WHERE o.published_at IS NOT NULL AND (o.topic = ANY(CAST(:topics AS text[]))
                    OR EXISTS (SELECT 1 FROM unnest(CAST(:ts AS text[]), CAST(:ps AS int[]),
                        CAST(:fs AS bigint[])) AS x(t, p, f)
                      WHERE o.topic = x.t AND o.kafka_partition = x.p AND o.kafka_offset >= x.f))
                  RETURNING o.id)
                SELECT count(*), max(id) FROM gone"""
        )
        self._backlog = text(
            f"SELECT id, extract(epoch FROM now() - created_at) FROM {outbox} "
            "WHERE published_at IS NULL ORDER BY id LIMIT 1"
        )
        self._unpublished = text(f"SELECT count(*) FROM {outbox} WHERE published_at IS NULL")

    async def acknowledged(self, conn: AsyncConnection) -> dict[TopicPartition, int]:
        """The highest offset the broker acknowledged in each partition the outbox still
        records: what the broker must hold at least."""
        rows = (await conn.execute(self._acknowledged)).all()
        return {(t, int(p)): int(o) for t, p, o in rows if o is not None}

    async def payloads_at(
        self, conn: AsyncConnection, wanted: dict[TopicPartition, int]
    ) -> dict[TopicPartition, bytes | None]:
        if not wanted:
            return {}
        keys = list(wanted)
        rows = await conn.execute(
            self._payloads_at,
            {
                "ts": [t for t, _ in keys],
                "ps": [p for _, p in keys],
                "os": [wanted[k] for k in keys],
            },
        )
        return {(t, int(p)): bytes(v) if v is not None else None for t, p, v in rows.all()}

    async def has_published(self, conn: AsyncConnection, topic: str) -> bool:
        return bool(await conn.scalar(self._has_published, {"t": topic}))

    async def requeue(
        self,
        conn: AsyncConnection,
        *,
        topics: set[str],
        tails: dict[TopicPartition, int],
    ) -> tuple[int, int | None]:
        """Mark the rows the broker lost unpublished; returns their count and highest id."""
        keys = list(tails)
        count, upto = (
            await conn.execute(
                self._requeue,
                {
                    "topics": sorted(topics),
                    "ts": [t for t, _ in keys],
                    "ps": [p for _, p in keys],
                    "fs": [tails[k] for k in keys],
                },
            )
        ).one()
        return int(count), (int(upto) if upto is not None else None)

    async def backlog(self, conn: AsyncConnection) -> Backlog:
        row = (await conn.execute(self._backlog)).first()
        if row is None:
            return Backlog(oldest_id=None, oldest_age=0.0)
        return Backlog(oldest_id=int(row[0]), oldest_age=max(0.0, float(row[1])))

    async def unpublished(self, conn: AsyncConnection) -> int:
        return int(await conn.scalar(self._unpublished) or 0)
