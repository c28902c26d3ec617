"""An event's journey is one trace: the request that wrote it, the relay's publish span, each
consumer's processing span (with its outcome), and whatever the handler records in turn. Spans
are made only where exporting is configured; elsewhere nothing is traced at all."""

from __future__ import annotations

import asyncio
import threading
import uuid
from collections.abc import AsyncIterator, Callable, Iterator
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import httpx
import pytest
import pytest_asyncio
from aiokafka import AIOKafkaProducer
from fastapi import APIRouter, Request
from opentelemetry import context as otel_context
from opentelemetry import trace
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest
from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import SpanKind, StatusCode
from pydantic import BaseModel
from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from shared.tests.kit_fixtures import Pinged, effects, metadata, runner_of, tables
from yanxiu.kit import telemetry
from yanxiu.kit.app import ServiceSpec, create_service_app
from yanxiu.kit.broker import ensure_topics, make_producer
from yanxiu.kit.consumer import Subscriber
from yanxiu.kit.deps import Session, runtime
from yanxiu.kit.outbox import Outbox
from yanxiu.kit.settings import KitSettings
from yanxiu.kit.tracecontext import parse
from yanxiu.testing import eventually, read_topic, served

DLQ = "kittest.dlq.v1"
PUBLISHED = (
    "messaging.system",
    "messaging.operation.type",
    "messaging.destination.name",
    "messaging.kafka.message.key",
    "yanxiu.event.type",
)


class PingIn(BaseModel):
    subject: str


class Poisoned(Exception):
    """What the test handler raises for a `poison…` subject, every time."""


def handler_of(sub: Subscriber, seen: dict[str, Any]) -> None:
    """Counts each event (its subject) as an effect, records the span it ran in, fails for
    `poison…`, and records a follow-on event for `first…`, as a handler that reacts does."""
    outbox = Outbox(tables["outbox"], producer="kittest")

    @sub.handler
    async def on_pinged(session: AsyncSession, event: Pinged) -> None:
        seen[event.subject] = trace.get_current_span().get_span_context()
        if event.subject.startswith("poison"):
            raise Poisoned(event.subject)
        if event.subject.startswith("first"):
            await outbox.add(session, Pinged(subject="second", seq=event.seq + 1))
        stmt = insert(effects).values(key=event.subject, count=1)
        await session.execute(
            stmt.on_conflict_do_update(
                index_elements=[effects.c.key], set_={"count": effects.c.count + 1}
            )
        )


def traced_spec(settings: KitSettings, group: str, seen: dict[str, Any]) -> ServiceSpec:
    """A service as the real ones are made: a write route recording an event, the relay, and a
    consumer of that event."""
    router = APIRouter()

    @router.post("/pings", status_code=201)
    async def ping(body: PingIn, session: Session, request: Request) -> dict[str, str]:
        await runtime(request).outbox.add(session, Pinged(subject=body.subject, seq=1))
        return {"subject": body.subject}

    sub = Subscriber(group=group, topics=[Pinged.TOPIC])
    handler_of(sub, seen)
    return ServiceSpec(
        name="kittest",
        metadata=metadata,
        routers=[router],
        settings_factory=lambda: settings,
        subscribers=[sub],
        produces=[Pinged.TOPIC],
    )


@pytest.fixture
def no_exporter_named(monkeypatch: pytest.MonkeyPatch) -> None:
    """Whatever the developer's shell says, this process is not configured to export."""
    for name in (*telemetry.OTEL_SWITCHES, "OTEL_SDK_DISABLED"):
        monkeypatch.delenv(name, raising=False)


@pytest.fixture
def exported(no_exporter_named: None) -> Iterator[InMemorySpanExporter]:
    """The event machinery's spans, kept in memory; the global tracer provider is left alone."""
    exporter = InMemorySpanExporter()
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    telemetry.use(provider)
    try:
        yield exporter
    finally:
        telemetry.use(None)
        provider.shutdown()


def of_kind(exporter: InMemorySpanExporter, kind: SpanKind) -> dict[str, ReadableSpan]:
    """The finished spans of a kind, by message key (the event's subject)."""
    return {
        str((s.attributes or {})[telemetry.MESSAGE_KEY]): s
        for s in exporter.get_finished_spans()
        if s.kind == kind
    }


def trace_of(span: ReadableSpan) -> int:
    assert span.context is not None
    return span.context.trace_id


def parent_of(span: ReadableSpan) -> int | None:
    return span.parent.span_id if span.parent is not None else None


def span_id(span: ReadableSpan) -> int:
    assert span.context is not None
    return span.context.span_id


async def test_an_events_publish_and_processing_are_spans_in_the_trace_of_the_write(
    settings_for: Callable[..., KitSettings],
    engine: AsyncEngine,
    exported: InMemorySpanExporter,
) -> None:
    settings = settings_for(KitSettings, service_name="kittest", run_relay=True, run_consumers=True)
    group = f"kittest.traced{uuid.uuid4().hex[:6]}"
    seen: dict[str, Any] = {}
    written, poisoned = uuid.uuid4().hex, uuid.uuid4().hex
    async with (
        served(create_service_app(traced_spec(settings, group, seen), settings)) as url,
        httpx.AsyncClient(base_url=url) as http,
    ):
        for subject, trace_id in (("first", written), ("poison", poisoned)):
            answer = await http.post(
                "/pings",
                json={"subject": subject},
                headers={"traceparent": f"00-{trace_id}-{'c0' * 8}-01"},
            )
            assert answer.status_code == 201

        async def all_processed() -> bool:
            return of_kind(exported, SpanKind.CONSUMER).keys() >= {"first", "second", "poison"}

        await eventually(all_processed, timeout=60)

    topic = settings.topic(Pinged.TOPIC)
    producers = of_kind(exported, SpanKind.PRODUCER)
    consumers = of_kind(exported, SpanKind.CONSUMER)

    publish = producers["first"]
    assert publish.name == f"publish {topic}"
    assert trace_of(publish) == int(written, 16)
    published = dict(publish.attributes or {})
    assert {k: published[k] for k in PUBLISHED} == {
        "messaging.system": "kafka",
        "messaging.operation.type": "send",
        "messaging.destination.name": topic,
        "messaging.kafka.message.key": "first",
        "yanxiu.event.type": Pinged.TYPE,
    }
    assert uuid.UUID(str(published["messaging.message.id"]))

    process = consumers["first"]
    assert process.name == f"process {topic}"
    assert trace_of(process) == int(written, 16)
    assert parent_of(process) == span_id(publish)
    attributes = process.attributes or {}
    assert attributes["messaging.system"] == "kafka"
    assert attributes["messaging.operation.type"] == "process"
    assert attributes["messaging.consumer.group.name"] == settings.topic(group)
    assert attributes["messaging.destination.name"] == topic
    # The record the relay put there: its partition, offset and event id.
    for name in (telemetry.PARTITION, telemetry.OFFSET, telemetry.MESSAGE_ID):
        assert attributes[name] == published[name], name
    assert attributes["yanxiu.event.type"] == Pinged.TYPE
    assert attributes["yanxiu.event.outcome"] == "handled"
    assert process.status.status_code == StatusCode.UNSET
    # The handler ran in the processing span's context…
    assert seen["first"].span_id == span_id(process)
    # …and what it recorded goes on in the same trace: published, then processed, in it.
    assert trace_of(producers["second"]) == int(written, 16)
    assert parent_of(consumers["second"]) == span_id(producers["second"])
    assert trace_of(consumers["second"]) == int(written, 16)

    dead = consumers["poison"]
    assert trace_of(dead) == int(poisoned, 16)
    assert parent_of(dead) == span_id(producers["poison"])
    assert dead.status.status_code == StatusCode.ERROR
    assert (dead.attributes or {})["yanxiu.event.outcome"] == "dead_lettered"
    [failure] = [e for e in dead.events if e.name == "exception"]
    assert str((failure.attributes or {})["exception.type"]).endswith("Poisoned")
    retries = [e for e in dead.events if e.name == "handler failed; retrying"]
    assert len(retries) == 3  # four attempts, then the dead-letter topic


@pytest_asyncio.fixture
async def producer(settings_for: Callable[..., KitSettings]) -> AsyncIterator[AIOKafkaProducer]:
    settings = settings_for(KitSettings, service_name="kittest")
    await ensure_topics(settings, [settings.topic(Pinged.TOPIC), settings.topic(DLQ)], partitions=1)
    p = make_producer(settings)
    await p.start()
    yield p
    await p.stop()


def envelope(subject: str, *, event_id: uuid.UUID | None = None, type_: str = "") -> bytes:
    env = Pinged(subject=subject, seq=1).envelope(
        producer="kittest", trace_id=uuid.uuid4().hex, occurred_at=datetime.now(UTC)
    )
    env = env.model_copy(update={"id": event_id or env.id, "type": type_ or env.type})
    return env.model_dump_json().encode()


async def test_every_record_of_a_batch_is_a_span_of_its_own_whichever_way_it_is_handled(
    settings_for: Callable[..., KitSettings],
    engine: AsyncEngine,
    broker: str,
    producer: AIOKafkaProducer,
    exported: InMemorySpanExporter,
) -> None:
    settings = settings_for(KitSettings, service_name="kittest")
    topic = settings.topic(Pinged.TOPIC)
    again = uuid.uuid4()
    # One partition: read back in this order. The first four are one batch that commits; the
    # last two a batch that a handler's failure rolls back, then handled one by one.
    sent = {
        "a": envelope("a", event_id=again),
        "a-copy": envelope("a", event_id=again),
        "unheard": envelope("unheard", type_="kittest.unheard"),
        "b": envelope("b"),
        "c": envelope("c"),
        "poison": envelope("poison"),
    }
    parents = {}
    for key, payload in sent.items():
        parents[key] = uuid.uuid4().hex[:16]
        parent = f"00-{uuid.uuid4().hex}-{parents[key]}-01"
        await producer.send(
            topic, payload, key=key.encode(), headers=[("traceparent", parent.encode())]
        )
    await producer.flush()
    records = await read_topic(broker, topic, expect=len(sent))
    sub = Subscriber(group=f"kittest.{uuid.uuid4().hex[:6]}", topics=[Pinged.TOPIC])
    seen: dict[str, Any] = {}
    handler_of(sub, seen)
    runner = runner_of(sub, engine, settings, producer, base_backoff=0.01)
    await runner.handle_batch(records[:4])
    await runner.handle_batch(records[4:])

    spans = [s for s in exported.get_finished_spans() if s.kind == SpanKind.CONSUMER]
    assert len(spans) == len(sent)
    by_key = of_kind(exported, SpanKind.CONSUMER)
    outcomes = {k: (s.attributes or {})["yanxiu.event.outcome"] for k, s in by_key.items()}
    assert outcomes == {
        "a": "handled",
        "a-copy": "duplicate",
        "unheard": "ignored",
        "b": "handled",
        "c": "handled",
        "poison": "dead_lettered",
    }
    for key, span in by_key.items():
        assert parent_of(span) == int(parents[key], 16), key
        assert span.status.status_code == (
            StatusCode.ERROR if key == "poison" else StatusCode.UNSET
        ), key
    # Each handler call ran in its own record's span, in the batch and alone.
    assert seen["a"].span_id == span_id(by_key["a"])
    assert seen["b"].span_id == span_id(by_key["b"])
    assert seen["c"].span_id == span_id(by_key["c"])
    async with engine.connect() as conn:
        counts = dict((await conn.execute(select(effects.c.key, effects.c.count))).all())
    assert counts == {"a": 1, "b": 1, "c": 1}


class _Collector(BaseHTTPRequestHandler):
    """An OTLP/HTTP collector that keeps what it is sent."""

    received: list[tuple[str, bytes]] = []  # noqa: RUF012

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers["Content-Length"]))
        self.received.append((self.path, body))
        self.send_response(200)
        self.send_header("Content-Type", "application/x-protobuf")
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, format: str, *args: Any) -> None:
        pass


@pytest.fixture
def collector() -> Iterator[tuple[str, list[tuple[str, bytes]]]]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Collector)
    _Collector.received = []
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}", _Collector.received
    finally:
        server.shutdown()
        server.server_close()


async def test_a_configured_exporter_sends_spans_over_otlp_http_under_the_service_name(
    monkeypatch: pytest.MonkeyPatch,
    no_exporter_named: None,
    collector: tuple[str, list[tuple[str, bytes]]],
) -> None:
    endpoint, received = collector
    monkeypatch.setenv("OTEL_EXPORTER_OTLP_ENDPOINT", endpoint)
    provider = telemetry.exporting_provider("yanxiu-kittest")
    try:
        provider.get_tracer("test").start_span("publish somewhere").end()
        assert await asyncio.to_thread(provider.force_flush, 10_000)
    finally:
        await asyncio.to_thread(provider.shutdown)
    [(path, body)] = received
    assert path == "/v1/traces"
    request = ExportTraceServiceRequest.FromString(body)
    [batch] = request.resource_spans
    resource = {a.key: a.value.string_value for a in batch.resource.attributes}
    assert resource["service.name"] == "yanxiu-kittest"
    assert [s.name for s in batch.scope_spans[0].spans] == ["publish somewhere"]


def test_exporting_is_set_up_once_per_process_and_only_when_configured(
    monkeypatch: pytest.MonkeyPatch, no_exporter_named: None
) -> None:
    installed: list[Any] = []
    monkeypatch.setattr(trace, "set_tracer_provider", installed.append)
    monkeypatch.setattr(telemetry, "_installed", False)
    monkeypatch.setattr(telemetry, "_tracer", None)
    monkeypatch.setattr(telemetry, "_provider", None)
    assert telemetry.install("yanxiu-kittest") is False  # nothing named: decided for good
    monkeypatch.setenv("OTEL_EXPORTER_OTLP_ENDPOINT", "http://127.0.0.1:9")
    assert telemetry.install("yanxiu-kittest") is False and installed == []

    monkeypatch.setattr(telemetry, "_installed", False)
    monkeypatch.setenv("OTEL_SDK_DISABLED", "true")
    assert telemetry.install("yanxiu-kittest") is False and installed == []

    monkeypatch.setattr(telemetry, "_installed", False)
    monkeypatch.delenv("OTEL_SDK_DISABLED")
    assert telemetry.install("yanxiu-enrollment") is True
    assert telemetry.install("yanxiu-enrollment") is True
    [provider] = installed
    try:
        assert provider.resource.attributes["service.name"] == "yanxiu-enrollment"
        assert telemetry.tracer() is not None
    finally:
        provider.shutdown()


async def test_without_an_exporter_named_nothing_is_traced(
    settings_for: Callable[..., KitSettings],
    engine: AsyncEngine,
    broker: str,
    monkeypatch: pytest.MonkeyPatch,
    no_exporter_named: None,
) -> None:
    monkeypatch.setattr(telemetry, "_installed", False)
    calls: list[str] = []

    def forbidden(name: str) -> Callable[..., Any]:
        def call(*args: Any, **kwargs: Any) -> Any:
            calls.append(name)
            raise AssertionError(f"{name} called with tracing off")

        return call

    settings = settings_for(KitSettings, service_name="kittest", run_relay=True, run_consumers=True)
    app = create_service_app(traced_spec(settings, f"kittest.{uuid.uuid4().hex[:6]}", {}), settings)
    trace_id = uuid.uuid4().hex
    async with served(app) as url, httpx.AsyncClient(base_url=url) as http:
        assert isinstance(trace.get_tracer_provider(), trace.ProxyTracerProvider)
        assert telemetry.tracer() is None
        rt = app.state.runtime
        assert rt.relay._tracer is None
        assert [r._tracer for r in rt.runners] == [None]
        # From here on, any tracing work by the relay or the consumer would be seen.
        for module, names in (
            (telemetry, ("publish_span", "process_span", "traceparent_of", "dead_lettered")),
            (trace, ("get_tracer_provider", "get_tracer", "set_span_in_context")),
            (otel_context, ("attach",)),
        ):
            for name in names:
                monkeypatch.setattr(module, name, forbidden(name))
        answer = await http.post(
            "/pings",
            json={"subject": "quiet"},
            headers={"traceparent": f"00-{trace_id}-{'c0' * 8}-01"},
        )
        assert answer.status_code == 201

        async def handled() -> bool:
            async with engine.connect() as conn:
                return bool(
                    await conn.scalar(select(effects.c.count).where(effects.c.key == "quiet"))
                )

        await eventually(handled, timeout=60)
    assert calls == []
    # The trace is still carried on the record, as it always was.
    [record] = await read_topic(broker, settings.topic(Pinged.TOPIC), expect=1)
    carried = parse(dict(record.headers)["traceparent"])
    assert carried is not None and carried.trace_id == trace_id
