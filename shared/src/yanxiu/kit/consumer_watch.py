"""A consumer's watch on the broker's memory of it (issue #13): a broker that restarted empty,
was replaced, or had a topic deleted and created again no longer holds the offsets the consumer
committed, and the log the consumer reads may start again from zero.

aiokafka recovers part of it alone: a group the broker forgot makes the member join again, and
with no committed offset it starts from the earliest one. What it does not do:
- give up on a commit: an offset commit the broker refuses with a retriable error (Tansu's
  "unknown topic or partition" for a topic it lost) is retried forever and the consumer stops
  without a word. Commits here are bounded; past the bound the runner reconnects.
- notice that the broker forgot what was committed while the member stays in its group (the
  relay deleted a lost topic and created it again): its positions then point into a log that is
  not the one it read, and it would skip that log's start. Before a partition's batch is
  handled, the offset the broker holds for it is compared with the last one committed; where
  the broker has none or less, the batch is dropped and the partition read again from the start
  (the inbox drops what was processed already). One offset fetch per batch, on the broker only.
- stop within a bound: a consumer leaving the group of a broker that went away is abandoned
  after a while rather than awaited for ever; one stopped while its JoinGroup is in flight
  does not wait for the broker's answer (Kafka holds it until the group settles; the embedded
  broker for a second).

Timeouts here are `asyncio.timeout`, not `asyncio.wait_for`: on Python 3.11 `wait_for` loses a
cancellation that arrives as the awaited commit completes, and the runner then went on
consuming after it was told to stop.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging

from aiokafka import AIOKafkaConsumer, TopicPartition
from aiokafka.errors import IllegalStateError, KafkaError
from prometheus_client import Gauge

from yanxiu.kit.metrics import CONSUMER_LAG, CONSUMER_REWINDS

log = logging.getLogger(__name__)

COMMIT_TIMEOUT = 15.0
CHECK_TIMEOUT = 5.0
STOP_TIMEOUT = 10.0


class ConsumerWatch:
    def __init__(self, group: str) -> None:
        self.group = group
        self._committed: dict[TopicPartition, int] = {}
        self._lag: dict[TopicPartition, Gauge] = {}  # the lag series this consumer set

    def restart(self) -> None:
        """A new consumer (after a reconnect): it starts from what the broker holds."""
        self._committed.clear()

    async def stop(self, consumer: AIOKafkaConsumer, *, joined: bool) -> None:
        """Stop a consumer, giving up after STOP_TIMEOUT: leaving the group of a broker that is
        gone or answers nothing must not hold the runner, and aiokafka's group coordinator can
        sit out a cancellation (so `wait_for` would wait on), hence a wait that abandons it.

        A consumer that never `joined` (stopped during start-up) has its join abandoned first:
        aiokafka's `stop()` otherwise awaits the JoinGroup answer. It has no generation, owns
        no partition and committed nothing, so there is nothing to hand over; the broker drops
        the half-joined member after the session timeout."""
        self.forget_lag()
        if not joined:
            await _abandon_join(consumer)
        stopping = asyncio.ensure_future(consumer.stop())
        done, _ = await asyncio.wait({stopping}, timeout=STOP_TIMEOUT)
        if not done:
            log.warning("consumer did not stop in time; abandoned", extra={"consumer": self.group})
        elif not stopping.cancelled() and stopping.exception() is not None:
            log.warning(
                "consumer stopped with an error",
                extra={"consumer": self.group, "error": repr(stopping.exception())},
            )

    async def note_lag(self, consumer: AIOKafkaConsumer) -> None:
        """Set the lag of each partition assigned here: the end of its log as last fetched
        minus what was committed (or, before the first commit, the position to read next).
        The series of a partition that went to another member is removed: that member
        reports it now."""
        assigned = consumer.assignment()
        for tp in [tp for tp in self._lag if tp not in assigned]:
            with contextlib.suppress(KeyError):
                CONSUMER_LAG.remove(self.group, tp.topic, str(tp.partition))
            del self._lag[tp]
        for tp in assigned:
            end = consumer.highwater(tp)
            done = self._committed.get(tp)
            if end is None:
                continue
            if done is None:
                try:
                    async with asyncio.timeout(CHECK_TIMEOUT):
                        done = await consumer.position(tp)
                except (TimeoutError, KafkaError, IllegalStateError):
                    continue
            series = self._lag.get(tp)
            if series is None:
                series = self._lag[tp] = CONSUMER_LAG.labels(
                    self.group, tp.topic, str(tp.partition)
                )
            series.set(max(end - done, 0))

    def forget_lag(self) -> None:
        """This consumer is stopping: its partitions are reported by whoever takes them."""
        for tp in self._lag:
            with contextlib.suppress(KeyError):
                CONSUMER_LAG.remove(self.group, tp.topic, str(tp.partition))
        self._lag.clear()

    async def commit(self, consumer: AIOKafkaConsumer, tp: TopicPartition, offset: int) -> None:
        async with asyncio.timeout(COMMIT_TIMEOUT):
            await consumer.commit({tp: offset})
        self._committed[tp] = offset

    async def verify(self, consumer: AIOKafkaConsumer, tp: TopicPartition) -> bool:
        """False if the broker lost this partition's committed offset; it is then read again
        from the start, and the batch in hand is to be dropped."""
        ours = self._committed.get(tp)
        if ours is None:
            return True
        try:
            async with asyncio.timeout(CHECK_TIMEOUT):
                held = await consumer.committed(tp)
        except asyncio.CancelledError:
            raise
        except Exception:
            # The broker is away or the group rebalancing: the commit that follows meets it.
            return True
        if held is not None and held >= ours:
            return True
        log.warning(
            "the broker forgot what this consumer committed; reading again from the start",
            extra={
                "consumer": self.group,
                "partition": f"{tp.topic}[{tp.partition}]",
                "committed": ours,
                "broker_has": held,
            },
        )
        CONSUMER_REWINDS.labels(self.group).inc()
        del self._committed[tp]
        await consumer.seek_to_beginning(tp)
        return False


async def _abandon_join(consumer: AIOKafkaConsumer) -> None:
    """Cancel the group coordinator's background routine (aiokafka 0.14 keeps it in
    `_coordinator._coordination_task`; a version without it is stopped the ordinary way)."""
    coordinator = getattr(consumer, "_coordinator", None)
    routine: asyncio.Task[None] | None = getattr(coordinator, "_coordination_task", None)
    if routine is None or routine.done():
        return
    routine.cancel()
    await asyncio.wait({routine}, timeout=STOP_TIMEOUT)
