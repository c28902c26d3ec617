"""Typed event handlers and the consumer runner.

A handler's signature is its contract:

    subscriber = Subscriber(group="learning.plans", topics=[ENROLLMENT_TOPIC])

    @subscriber.handler
    async def on_teacher_registered(session: AsyncSession, event: TeacherRegistered) -> None: ...

The runner processes each partition in order. For every message it records the event id in
the inbox and runs the handler in one transaction, so a redelivered event has no second
effect. Offsets are committed only after a message was handled or parked, so a killed
consumer resumes without losing anything.

Failures are sorted by whose they are (`yanxiu.kit.faults`). The infrastructure's (database or
broker down or restarting, timeouts, an exhausted pool, serialization failures, deadlocks) hold
the partition: retried with capped backoff for as long as it takes, never dead-lettered, the
offset left where it is. Only a message that can never succeed is parked in the dead-letter
topic and the partition goes on: unparseable, invalid, an unknown version, or a handler that
still fails on its own after `max_attempts`. Parking is itself retried until the broker
takes the message. Readers are tolerant: fields a newer producer added are ignored.

Where spans are exported (yanxiu.kit.telemetry) each record's handling is a span, child of the
relay's publish span, with its outcome; the handler runs in its context.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import logging
import re
import time
from collections.abc import Awaitable, Callable
from contextvars import ContextVar
from dataclasses import dataclass
from typing import Any, Literal, TypeVar, get_type_hints

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, ConsumerRecord, TopicPartition
from aiokafka.errors import KafkaConnectionError
from opentelemetry.trace import Span
from pydantic import ValidationError, create_model
from sqlalchemy import Table, text
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from yanxiu.contracts.envelope import Envelope, Event
from yanxiu.kit import telemetry
from yanxiu.kit.cancellation import stop_if_asked
from yanxiu.kit.consumer_watch import ConsumerWatch
from yanxiu.kit.context import trace_id_var
from yanxiu.kit.dlq import DLQ_HEADERS
from yanxiu.kit.faults import Backoff, Fault, Throttled, classify
from yanxiu.kit.metrics import (
    CONSUMER_RECONNECTS,
    CONSUMER_RETRIES,
    CONSUMER_WAITING,
    DEAD_LETTERS,
    EVENT_HANDLE_SECONDS,
    EVENTS_HANDLED,
)
from yanxiu.kit.settings import KitSettings

log = logging.getLogger(__name__)

F = TypeVar("F", bound=Callable[..., Awaitable[None]])
T = TypeVar("T")
HandlerFn = Callable[[AsyncSession, Any], Awaitable[None]]

current_envelope: ContextVar[Envelope | None] = ContextVar("current_envelope", default=None)


@dataclass(frozen=True)
class Handler:
    model: type[Event]
    fn: HandlerFn
    batch: bool = False
    """A batch handler takes `events: list[Model]`: one call for a run of such events."""

    @functools.cached_property
    def envelope(self) -> type[Envelope]:
        """The envelope with this handler's payload model as `data`: a message validated
        against it in one pass gives both the envelope and the event."""
        typed: type[Envelope] = create_model(
            f"{self.model.__name__}Envelope",
            __base__=Envelope,
            type=(Literal[self.model.TYPE], ...),  # type: ignore[arg-type]
            version=(Literal[self.model.VERSION], ...),  # type: ignore[arg-type]
            data=(self.model, ...),
        )
        return typed


# A decoded record of a batch: its handler, event, envelope and span (None when not traced).
Work = tuple[Handler, Event, Envelope, Span | None]

# Where our envelopes say what they carry (the outbox writes `type` and `version` first): a
# hint to pick the one-pass model; the typed model still checks both, and anything else
# takes the general path.
_HEAD = re.compile(rb'"type"\s*:\s*"([^"\\]{1,200})"\s*,\s*"version"\s*:\s*(\d{1,9})')


def _type_of(record: ConsumerRecord[bytes, bytes]) -> str:
    """The event type a record carries: the relay's `type` header, else the envelope's head,
    else "unknown" (bounded: it becomes a metric label)."""
    for key, value in record.headers or ():
        if key == "type" and value:
            return value.decode("utf-8", "replace")[:200]
    head = _HEAD.search(record.value or b"", 0, 512)
    return head[1].decode("utf-8", "replace") if head else "unknown"


class Subscriber:
    """One consumer group: the topics it reads and a handler per event type and version."""

    def __init__(self, *, group: str, topics: list[str]) -> None:
        self.group = group
        self.topics = topics
        self.handlers: dict[tuple[str, int], Handler] = {}

    def handler(self, fn: F) -> F:
        """Register `async def h(session, event: Model)` or, for a batch handler,
        `async def h(session, events: list[Model])`."""
        hints = get_type_hints(fn)
        batch = "events" in hints
        model: object = hints.get("event")
        if batch:
            args: tuple[object, ...] = getattr(hints["events"], "__args__", ())
            is_list = getattr(hints["events"], "__origin__", None) is list
            model = args[0] if is_list and args else None
        if not (isinstance(model, type) and issubclass(model, Event)):
            raise TypeError(
                f"{fn.__name__}: annotate 'event: Model' or 'events: list[Model]' "
                "with an Event model"
            )
        event_model: type[Event] = model
        self.handlers[(event_model.TYPE, event_model.VERSION)] = Handler(event_model, fn, batch)
        return fn

    def known_types(self) -> set[str]:
        return {t for t, _ in self.handlers}


class Unprocessable(Exception):
    """A message that no retry can fix (unparseable, unknown version, invalid payload)."""


class ConsumerRunner:
    def __init__(
        self,
        *,
        subscriber: Subscriber,
        settings: KitSettings,
        session_factory: async_sessionmaker[AsyncSession],
        inbox: Table,
        dlq_producer: AIOKafkaProducer,
        dlq_topic: str,
        max_attempts: int = 4,
        base_backoff: float = 0.1,
        max_backoff: float = 5.0,
    ) -> None:
        self.subscriber = subscriber
        self.settings = settings
        self.session_factory = session_factory
        self.inbox = inbox
        self.producer = dlq_producer
        self.dlq_topic = settings.topic(dlq_topic)
        self.max_attempts = max_attempts
        self.base_backoff = base_backoff
        # The longest wait between two tries against a database or broker that is down: also
        # how long after it returns the consumer may take to notice.
        self.max_backoff = max_backoff
        self._outage_log = Throttled(log)
        self._poll_error: Exception | None = None
        self.consumer: AIOKafkaConsumer | None = None
        # Bounded commits, and a partition read again when the broker forgot its offsets.
        self._watch = ConsumerWatch(subscriber.group)
        inbox_name = f"{inbox.schema}.{inbox.name}" if inbox.schema else inbox.name
        # One statement claims a whole batch (compiling a multi-row VALUES costs more than
        # the database work).
        self._claim_many = text(
            f"INSERT INTO {inbox_name} (consumer, event_id, event_type) "
            "SELECT :consumer, u.id, u.type FROM unnest(CAST(:ids AS uuid[]), "
            "CAST(:types AS text[])) AS u(id, type) "
            "ON CONFLICT DO NOTHING RETURNING event_id"
        )
        self.started = asyncio.Event()
        # Decided once: None where spans are not exported, and then no event costs anything.
        self._tracer = telemetry.tracer()
        self._group_id = settings.topic(subscriber.group)

    def _span(self, record: ConsumerRecord[bytes, bytes]) -> Span:
        assert self._tracer is not None
        return telemetry.process_span(
            self._tracer, record, group=self._group_id, event_type=_type_of(record)
        )

    def _decode(
        self, record: ConsumerRecord[bytes, bytes]
    ) -> tuple[Handler, Event, Envelope] | str:
        """The handler, event and envelope; or, for an event no handler here takes, its type
        (the caller counts it as ignored once the record's outcome is final)."""
        raw = record.value or b""
        head = _HEAD.search(raw, 0, 512)
        if head is not None:
            handler = self.subscriber.handlers.get((head[1].decode(), int(head[2])))
            if handler is not None:
                with contextlib.suppress(ValidationError):  # the general path says why
                    typed = handler.envelope.read(raw)
                    return handler, typed.data, typed  # type: ignore[return-value]
        try:
            # Tolerant reader (docs/events.md): fields a newer producer added, in the envelope or
            # anywhere in `data`, are ignored rather than refused.
            env = Envelope.read(raw)
        except ValidationError as exc:
            raise Unprocessable(f"unparseable envelope: {exc.errors()[:3]}") from exc
        handler = self.subscriber.handlers.get((env.type, env.version))
        if handler is None:
            if env.type in self.subscriber.known_types():
                raise Unprocessable(f"unsupported version {env.version} of {env.type}")
            return env.type
        try:
            event = handler.model.read(env.data)
        except ValidationError as exc:
            raise Unprocessable(f"invalid {env.type} v{env.version}: {exc.errors()[:3]}") from exc
        return handler, event, env

    async def _apply(self, handler: Handler, event: Event, env: Envelope) -> bool:
        """One transaction: claim the event id in the inbox, run the handler. False if the
        event had been processed already."""
        async with self.session_factory() as session, session.begin():
            claimed = await session.execute(
                insert(self.inbox)
                .values(consumer=self.subscriber.group, event_id=env.id, event_type=env.type)
                .on_conflict_do_nothing()
                .returning(self.inbox.c.event_id)
            )
            if claimed.first() is None:
                return False
            await handler.fn(session, [event] if handler.batch else event)
        return True

    async def handle(
        self, record: ConsumerRecord[bytes, bytes], *, span: Span | None = None
    ) -> str:
        """Process one record to a final outcome: handled, duplicate, ignored or dead-lettered.
        Traced, in a span of its own, or in `span` (the batch path's, which ends it)."""
        if self._tracer is None:
            return await self._handle(record, None)
        own = span is None
        if span is None:
            span = self._span(record)
        try:
            result = await self._handle(record, span)
            telemetry.outcome(span, result)
            return result
        finally:
            if own:
                span.end()

    async def _handle(self, record: ConsumerRecord[bytes, bytes], span: Span | None) -> str:
        try:
            decoded = self._decode(record)
        except Unprocessable as exc:
            if span is not None:
                telemetry.dead_lettered(span, exc)
            await self._dead_letter(record, str(exc), attempts=0)
            return "dead_lettered"
        if isinstance(decoded, str):
            EVENTS_HANDLED.labels(self.subscriber.group, decoded, "ignored").inc()
            return "ignored"
        handler, event, env = decoded
        if span is not None:
            span.set_attribute(telemetry.MESSAGE_ID, str(env.id))
        t_token = trace_id_var.set(env.trace_id)
        e_token = current_envelope.set(env)
        try:
            with telemetry.within(span):
                return await self._attempts(record, handler, event, env, span)
        finally:
            trace_id_var.reset(t_token)
            current_envelope.reset(e_token)

    async def _attempts(
        self,
        record: ConsumerRecord[bytes, bytes],
        handler: Handler,
        event: Event,
        env: Envelope,
        span: Span | None,
    ) -> str:
        """The handler's tries, each one transaction; the dead-letter topic after the last."""
        for attempt in range(1, self.max_attempts + 1):
            started = time.perf_counter()
            try:
                fresh = await self._through_outages(
                    functools.partial(self._apply, handler, event, env), env=env
                )
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                # The handler's own failure (outages were waited out above): a rule that
                # will not change, or a bug. A few tries, then the dead-letter topic.
                log.warning(
                    "handler failed",
                    extra={
                        "consumer": self.subscriber.group,
                        "event_type": env.type,
                        "event_id": str(env.id),
                        "attempt": attempt,
                        "error": repr(exc),
                    },
                )
                if attempt == self.max_attempts:
                    if span is not None:
                        telemetry.dead_lettered(span, exc)
                    await self._dead_letter(record, repr(exc), attempts=attempt)
                    return "dead_lettered"
                if span is not None:
                    telemetry.retried(span, attempt, exc)
                CONSUMER_RETRIES.labels(self.subscriber.group, "handler").inc()
                await asyncio.sleep(self.base_backoff * 2 ** (attempt - 1))
                continue
            EVENT_HANDLE_SECONDS.labels(self.subscriber.group).observe(
                time.perf_counter() - started
            )
            outcome = "handled" if fresh else "duplicate"
            EVENTS_HANDLED.labels(self.subscriber.group, env.type, outcome).inc()
            return outcome
        return "dead_lettered"  # pragma: no cover - loop always returns

    async def _through_outages(
        self,
        op: Callable[[], Awaitable[T]],
        *,
        env: Envelope | None = None,
        every_error: bool = False,
    ) -> T:
        """Run `op` (one whole transaction) until it is not stopped by the infrastructure.
        A database or broker that is down, restarting or saturated, a timeout, a serialization
        failure or deadlock: retried with capped backoff for as long as it takes, holding the
        partition (the offset is not committed past the message meanwhile). Any other error is
        the work's own and goes to the caller."""
        group = self.subscriber.group
        backoff: Backoff | None = None
        began = 0.0
        try:
            while True:
                stop_if_asked()
                try:
                    result = await op()
                except asyncio.CancelledError:
                    raise
                except Exception as exc:
                    fault = classify(exc) or (Fault.UNAVAILABLE if every_error else None)
                    if fault is None:
                        raise
                    if backoff is None:
                        backoff = Backoff(base=self.base_backoff, cap=self.max_backoff)
                        began = time.monotonic()
                        CONSUMER_WAITING.labels(group).set(1)
                    CONSUMER_RETRIES.labels(group, fault.value).inc()
                    delay = backoff.next()
                    self._outage_log.warning(
                        "consumer waiting for its infrastructure; will retry",
                        extra={
                            "consumer": group,
                            "cause": fault.value,
                            "event_type": env.type if env else None,
                            "event_id": str(env.id) if env else None,
                            "retries": backoff.attempts,
                            "waiting_s": round(time.monotonic() - began, 1),
                            "retry_in_s": round(delay, 2),
                            "error": repr(exc)[:500],
                        },
                    )
                    await self._hold(delay)
                    continue
                if backoff is not None:
                    log.warning(
                        "consumer going on after waiting for its infrastructure",
                        extra={
                            "consumer": group,
                            "retries": backoff.attempts,
                            "waited_s": round(time.monotonic() - began, 1),
                        },
                    )
                return result
        finally:
            if backoff is not None:
                CONSUMER_WAITING.labels(group).set(0)

    async def _hold(self, delay: float) -> None:
        """Wait `delay` seconds without dropping out of the consumer group. Kafka evicts a
        member that has not polled for max.poll.interval.ms (5 min) and an outage can last
        longer, so with every assigned partition paused the wait is a poll that fetches
        nothing. A rebalance during the wait un-pauses; whatever that poll returned is given
        back by seeking to it, so it is fetched again in order."""
        consumer = self.consumer
        assigned: set[TopicPartition] = set(consumer.assignment()) if consumer else set()
        if consumer is None or not assigned:  # not under run() (a bench, a test), or unassigned
            await asyncio.sleep(delay)
            return
        to_pause = assigned - set(consumer.paused())
        consumer.pause(*to_pause)
        try:
            fetched = await consumer.getmany(timeout_ms=int(delay * 1000))
        except asyncio.CancelledError:
            raise
        except Exception as exc:
            # Not the handler's to see (it would count as the handler failing): kept for the
            # end of the batch, where the run loop meets it as it would have.
            self._poll_error = self._poll_error or exc
            fetched = {}
            await asyncio.sleep(delay)
        finally:
            still = set(consumer.assignment())
            consumer.resume(*(to_pause & still))
        for tp, records in fetched.items():
            if records:
                consumer.seek(tp, records[0].offset)

    async def _dead_letter(
        self, record: ConsumerRecord[bytes, bytes], error: str, *, attempts: int
    ) -> None:
        """Park the message; returns only once the broker has taken it (a broker that is away
        holds the partition like any outage), so the offset is never committed past a message
        that is neither handled nor parked."""
        # The record's own headers first (its `type` among them, which `yanxiu dlq` filters
        # on and replays with), then why and where from.
        event_type = _type_of(record)
        own = [(k, v) for k, v in (record.headers or ()) if k not in DLQ_HEADERS]
        if not any(k == "type" for k, _ in own):
            own.append(("type", event_type.encode()))
        headers = [
            *own,
            ("error", error[:2000].encode()),
            ("consumer", self.subscriber.group.encode()),
            ("source_topic", record.topic.encode()),
            ("source_partition", str(record.partition).encode()),
            ("source_offset", str(record.offset).encode()),
            ("attempts", str(attempts).encode()),
        ]
        tries = 0

        async def send() -> None:
            nonlocal tries
            tries += 1
            # After a failure the broker may be one that came back without its topics and
            # acknowledges writes to them into nothing (the embedded broker does): fresh
            # metadata makes it create the topic again first.
            if tries > 1 and not await self.producer.client.force_metadata_update():
                raise KafkaConnectionError("broker metadata unavailable")
            await self.producer.send_and_wait(
                self.dlq_topic, value=record.value, key=record.key, headers=headers
            )

        # Whatever stops the broker from taking it is waited out, not only what `classify`
        # knows: the alternative is a message neither handled nor parked.
        await self._through_outages(send, every_error=True)
        EVENTS_HANDLED.labels(self.subscriber.group, event_type, "dead_lettered").inc()
        DEAD_LETTERS.labels(self.settings.service_name, self.subscriber.group, event_type).inc()
        log.error(
            "message dead-lettered",
            extra={
                "consumer": self.subscriber.group,
                "topic": record.topic,
                "partition": record.partition,
                "offset": record.offset,
                "event_type": event_type,
                "error": error,
            },
        )

    async def run(self) -> None:
        """Consume until cancelled; reconnects after broker failures."""
        backoff = 0.5
        while True:
            stop_if_asked()
            consumer = AIOKafkaConsumer(
                *[self.settings.topic(t) for t in self.subscriber.topics],
                bootstrap_servers=self.settings.kafka_bootstrap_servers,
                group_id=self.settings.topic(self.subscriber.group),
                enable_auto_commit=False,
                auto_offset_reset="earliest",
                client_id=f"{self.settings.service_name}-{self.subscriber.group}",
                max_poll_records=self.settings.kafka_max_poll_records,
                max_partition_fetch_bytes=8 * 1024 * 1024,
                fetch_max_wait_ms=self.settings.kafka_fetch_max_wait_ms,
                session_timeout_ms=self.settings.kafka_session_timeout_ms,
                heartbeat_interval_ms=self.settings.kafka_heartbeat_interval_ms,
                # A topic created again (after a broker loss) is seen within this, not 5 min.
                metadata_max_age_ms=30_000,
            )
            self.consumer = consumer
            joined = False
            try:
                await consumer.start()
                joined = True
                self.started.set()
                self._watch.restart()
                backoff = 0.5
                while True:
                    stop_if_asked()
                    batches = await consumer.getmany(
                        timeout_ms=500, max_records=self.settings.kafka_max_poll_records
                    )
                    for tp, records in batches.items():
                        await self._handle_partition(consumer, tp, records)
                    await self._watch.note_lag(consumer)
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                CONSUMER_RECONNECTS.labels(self.subscriber.group).inc()
                log.warning(
                    "consumer loop failed; reconnecting",
                    extra={"consumer": self.subscriber.group, "error": repr(exc)},
                )
                await asyncio.sleep(backoff)
                backoff = min(backoff * 2, 10.0)
            finally:
                await self._watch.stop(consumer, joined=joined)

    async def _handle_partition(
        self,
        consumer: AIOKafkaConsumer,
        tp: TopicPartition,
        records: list[ConsumerRecord[bytes, bytes]],
    ) -> None:
        if not await self._watch.verify(consumer, tp):
            return  # the broker forgot this partition's progress: read again from the start
        await self.handle_batch(records)
        # Committing once per batch is safe: a replay after a crash is deduped by the inbox.
        if records:
            await self._watch.commit(consumer, tp, records[-1].offset + 1)

    async def handle_batch(self, records: list[ConsumerRecord[bytes, bytes]]) -> None:
        """Handle a partition's batch in one transaction (one commit, not one per event).
        An outage is waited out with the whole batch held. If a handler fails on its own, the
        batch is rolled back and every record is handled alone, with retries and
        dead-lettering, in order."""
        await self._handle_records(records)
        self._raise_poll_error()

    async def _handle_records(self, records: list[ConsumerRecord[bytes, bytes]]) -> None:
        if len(records) == 1:
            await self.handle(records[0])
            return
        if self._tracer is None:
            await self._handle_many(records, None)
            return
        # A span per record, whichever way it ends up handled (in the batch, or alone after the
        # batch was rolled back).
        spans = [self._span(record) for record in records]
        try:
            await self._handle_many(records, spans)
        finally:
            for span in spans:
                span.end()

    async def _handle_many(
        self, records: list[ConsumerRecord[bytes, bytes]], spans: list[Span] | None
    ) -> None:
        work: list[Work] = []
        ignored: list[tuple[str, Span | None]] = []
        for i, record in enumerate(records):
            span = spans[i] if spans is not None else None
            try:
                decoded = self._decode(record)
            except Unprocessable:
                await self.handle_each(records, spans)
                return
            if isinstance(decoded, str):
                ignored.append((decoded, span))
                continue
            handler, event, env = decoded
            if span is not None:
                span.set_attribute(telemetry.MESSAGE_ID, str(env.id))
            work.append((handler, event, env, span))
        group = self.subscriber.group
        if work:
            started = time.perf_counter()
            try:
                fresh = await self._through_outages(
                    functools.partial(self._apply_batch, work), env=work[0][2]
                )
            except asyncio.CancelledError:
                raise
            except Exception:
                await self.handle_each(records, spans)  # counts each record's outcome itself
                return
            share = (time.perf_counter() - started) / len(work)
            seconds = EVENT_HANDLE_SECONDS.labels(group)
            for _, _, env, span in work:
                seconds.observe(share)
                # A later copy of an event in the batch is a duplicate, as in `_apply_batch`.
                outcome = "handled" if env.id in fresh else "duplicate"
                fresh.discard(env.id)
                EVENTS_HANDLED.labels(group, env.type, outcome).inc()
                if span is not None:
                    telemetry.outcome(span, outcome)
        for event_type, span in ignored:
            EVENTS_HANDLED.labels(group, event_type, "ignored").inc()
            if span is not None:
                telemetry.outcome(span, "ignored")

    def _raise_poll_error(self) -> None:
        """An error the consumer reported while polling during an outage (see `_hold`), raised
        before the batch's offsets are committed: the run loop reconnects and the inbox drops
        the redelivered copies."""
        if self._poll_error is not None:
            exc, self._poll_error = self._poll_error, None
            raise exc

    async def _apply_batch(self, work: list[Work]) -> set[Any]:
        """One transaction for the batch; returns the ids handled now (the rest had been, or
        are a later copy of one in the batch)."""
        async with self.session_factory() as session, session.begin():
            claimed = await session.execute(
                self._claim_many,
                {
                    "consumer": self.subscriber.group,
                    "ids": [item[2].id for item in work],
                    "types": [item[2].type for item in work],
                },
            )
            fresh = set(claimed.scalars().all())
            todo = []
            unclaimed = set(fresh)
            for item in work:
                if item[2].id in unclaimed:
                    unclaimed.discard(item[2].id)  # a later copy in the batch is a duplicate
                    todo.append(item)
            await self._run_in_order(session, todo)
        return fresh

    async def _run_in_order(self, session: AsyncSession, todo: list[Work]) -> None:
        """Run handlers in record order; consecutive events for one batch handler go to it
        in a single call (in the first one's trace and span, as its trace id is the one the
        events it records carry)."""
        i = 0
        while i < len(todo):
            handler, event, env, span = todo[i]
            j = i + 1
            if handler.batch:
                while j < len(todo) and todo[j][0] is handler:
                    j += 1
            t_token = trace_id_var.set(env.trace_id)
            e_token = current_envelope.set(env)
            try:
                with telemetry.within(span):
                    if handler.batch:
                        await handler.fn(session, [t[1] for t in todo[i:j]])
                    else:
                        await handler.fn(session, event)
            finally:
                trace_id_var.reset(t_token)
                current_envelope.reset(e_token)
            i = j

    async def handle_each(
        self, records: list[ConsumerRecord[bytes, bytes]], spans: list[Span] | None = None
    ) -> None:
        for i, record in enumerate(records):
            await self.handle(record, span=spans[i] if spans is not None else None)
