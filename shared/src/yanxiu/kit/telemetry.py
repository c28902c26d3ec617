"""OpenTelemetry: the process's TracerProvider, exporting over OTLP/HTTP where the environment
names an exporter, and the spans of the event machinery (the relay's `publish <topic>`, a
consumer's `process <topic>`). Where nothing is configured no provider is installed and the
relay and consumers hold no tracer: they do no tracing work at all."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import random
import re
from collections.abc import Iterator, Mapping, Sequence
from contextlib import AbstractContextManager, nullcontext
from typing import TYPE_CHECKING, Any

from opentelemetry import context as otel_context
from opentelemetry import trace
from opentelemetry.context import Context
from opentelemetry.trace import (
    NonRecordingSpan,
    Span,
    SpanContext,
    SpanKind,
    Status,
    StatusCode,
    TraceFlags,
    Tracer,
    TracerProvider,
)

from yanxiu.kit.tracecontext import is_trace_id, trace_id_of
from yanxiu.kit.tracecontext import parse as parse_traceparent

if TYPE_CHECKING:
    from aiokafka import ConsumerRecord
    from opentelemetry.sdk.trace import TracerProvider as SdkTracerProvider

log = logging.getLogger(__name__)

# What turns exporting on: an exporter named in the environment, as the OpenTelemetry SDK
# reads it (and FastAPI's native telemetry, `yanxiu.kit.app.fastapi_telemetry`).
OTEL_SWITCHES = (
    "OTEL_EXPORTER_OTLP_ENDPOINT",
    "OTEL_TRACES_EXPORTER",
    "FASTAPI_OTEL_AUTO_CONFIGURE",
)
SCOPE = "yanxiu.kit"

# Messaging semantic conventions (OpenTelemetry semconv 1.3x, messaging spans).
SYSTEM = "messaging.system"
OPERATION_TYPE = "messaging.operation.type"
OPERATION_NAME = "messaging.operation.name"
DESTINATION = "messaging.destination.name"
PARTITION = "messaging.destination.partition.id"
CONSUMER_GROUP = "messaging.consumer.group.name"
MESSAGE_ID = "messaging.message.id"
MESSAGE_KEY = "messaging.kafka.message.key"
OFFSET = "messaging.kafka.offset"
EVENT_TYPE = "yanxiu.event.type"
OUTCOME = "yanxiu.event.outcome"

_provider: TracerProvider | None = None
_tracer: Tracer | None = None
_installed = False
_NOTHING: AbstractContextManager[None] = nullcontext()
# The envelope's id (written first by the outbox); only read when publishing is traced.
_EVENT_ID = re.compile(rb'"id"\s*:\s*"([0-9a-fA-F-]{36})"')


def configured(environ: Mapping[str, str] = os.environ) -> bool:
    """Whether the environment names an exporter (and has not switched the SDK off)."""
    return environ.get("OTEL_SDK_DISABLED", "").lower() != "true" and any(
        environ.get(name) for name in OTEL_SWITCHES
    )


def install(service: str, environ: Mapping[str, str] = os.environ) -> bool:
    """Once per process, where `configured`: `exporting_provider(service)` made the global
    tracer provider, so that FastAPI's request spans go where the events' do. Returns whether
    spans are being made."""
    global _installed
    if _installed:
        return _tracer is not None
    _installed = True
    if not configured(environ) or _exporter(environ) == "none":
        return _tracer is not None
    current = trace.get_tracer_provider()
    if not isinstance(current, trace.ProxyTracerProvider):
        # Someone configured OpenTelemetry before us (`opentelemetry-instrument`, a vendor's
        # agent): the events' spans go where everything else of theirs goes.
        log.info("OpenTelemetry already configured; using its tracer provider")
        use(current)
        return True
    provider = exporting_provider(service, environ)
    trace.set_tracer_provider(provider)
    use(provider)
    log.info("exporting spans over OTLP/HTTP", extra={"service": service})
    return True


def exporting_provider(service: str, environ: Mapping[str, str] = os.environ) -> SdkTracerProvider:
    """A TracerProvider whose `service.name` is `service`, sending its spans in batches to the
    OTLP/HTTP endpoint the environment names (the SDK reads OTEL_EXPORTER_OTLP_[TRACES_]ENDPOINT,
    _HEADERS, _TIMEOUT, _COMPRESSION … itself). OTEL_RESOURCE_ATTRIBUTES still adds to the
    resource; the service's name is ours. The SDK is imported only here: a process that does
    not export never loads it."""
    from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
    from opentelemetry.sdk.resources import SERVICE_NAME, Resource
    from opentelemetry.sdk.trace import TracerProvider as SdkProvider
    from opentelemetry.sdk.trace.export import BatchSpanProcessor

    exporter = _exporter(environ)
    if exporter != "otlp":
        log.warning(
            "only the OTLP/HTTP span exporter is installed; using it",
            extra={"traces_exporter": exporter},
        )
    provider = SdkProvider(resource=Resource.create({SERVICE_NAME: service}))
    provider.add_span_processor(BatchSpanProcessor(OTLPSpanExporter()))
    return provider


def _exporter(environ: Mapping[str, str]) -> str:
    return environ.get("OTEL_TRACES_EXPORTER", "").strip().lower() or "otlp"


def use(provider: TracerProvider | None) -> None:
    """Make the event machinery's spans with `provider` (None: make none). `install` calls it
    with the provider it builds; a test passes one of its own without touching the global one.
    Relays and consumers take the tracer when they are built."""
    global _provider, _tracer
    _provider = provider
    _tracer = provider.get_tracer(SCOPE) if provider is not None else None


def tracer() -> Tracer | None:
    """The tracer of the event machinery, or None where spans are not exported."""
    return _tracer


async def flush(timeout: float = 5.0) -> None:
    """Send the spans still buffered (on app stop; the SDK shuts the provider down at exit)."""
    force_flush = getattr(_provider, "force_flush", None)
    if force_flush is None:
        return
    with contextlib.suppress(Exception):
        await asyncio.wait_for(asyncio.to_thread(force_flush, int(timeout * 1000)), timeout + 1.0)


def _parent(trace_id: str | None) -> Context:
    """A context whose parent is in `trace_id`'s trace. The envelope keeps the trace id, not
    the id of the span that wrote it, so the parent span is one not recorded here: the trace
    is whole, the writer's span is not linked. No trace id: a new trace (empty context)."""
    if trace_id is None or not is_trace_id(trace_id):
        return Context()
    remote = SpanContext(
        trace_id=int(trace_id, 16),
        span_id=random.getrandbits(64) or 1,
        is_remote=True,
        trace_flags=TraceFlags(TraceFlags.SAMPLED),
    )
    return trace.set_span_in_context(NonRecordingSpan(remote))


def publish_span(tracer: Tracer, *, topic: str, key: str, event_type: str, payload: bytes) -> Span:
    """The relay's span for sending one event, in the trace its envelope carries; ended by
    `published` or `failed`."""
    attributes: dict[str, Any] = {
        SYSTEM: "kafka",
        OPERATION_TYPE: "send",
        OPERATION_NAME: "publish",
        DESTINATION: topic,
        MESSAGE_KEY: key,
        EVENT_TYPE: event_type,
    }
    found = _EVENT_ID.search(payload, 0, 200)
    if found is not None:
        attributes[MESSAGE_ID] = found[1].decode("ascii")
    return tracer.start_span(
        f"publish {topic}",
        context=_parent(trace_id_of(payload)),
        kind=SpanKind.PRODUCER,
        attributes=attributes,
    )


def traceparent_of(span: Span) -> bytes:
    """The record's `traceparent`: the publish span as the parent of whoever processes it."""
    ctx = span.get_span_context()
    return f"00-{ctx.trace_id:032x}-{ctx.span_id:016x}-{int(ctx.trace_flags):02x}".encode("ascii")


def published(spans: Sequence[Span], acks: Sequence[Any]) -> None:
    """End the publish spans with where the broker put each record."""
    for span, ack in zip(spans, acks, strict=True):
        span.set_attribute(PARTITION, str(ack.partition))
        span.set_attribute(OFFSET, ack.offset)
        span.end()


def failed(spans: Sequence[Span], error: BaseException) -> None:
    """End the publish spans of a batch that was not sent (the rows stay queued)."""
    for span in spans:
        span.set_status(Status(StatusCode.ERROR, f"{type(error).__name__}: {error}"[:500]))
        if isinstance(error, Exception):
            span.record_exception(error)
        span.end()


def process_span(
    tracer: Tracer, record: ConsumerRecord[bytes, bytes], *, group: str, event_type: str
) -> Span:
    """A consumer's span for one record, child of the span that published it (its
    `traceparent`), else in the trace its envelope names; ended by the caller."""
    header = next((v for k, v in record.headers or () if k == "traceparent"), None)
    parent = parse_traceparent(header) if header else None
    if parent is not None:
        context = trace.set_span_in_context(
            NonRecordingSpan(
                SpanContext(
                    trace_id=int(parent.trace_id, 16),
                    span_id=int(parent.span_id, 16),
                    is_remote=True,
                    trace_flags=TraceFlags(int(parent.flags, 16)),
                )
            )
        )
    else:
        context = _parent(trace_id_of(record.value or b""))
    attributes: dict[str, Any] = {
        SYSTEM: "kafka",
        OPERATION_TYPE: "process",
        OPERATION_NAME: "process",
        DESTINATION: record.topic,
        CONSUMER_GROUP: group,
        PARTITION: str(record.partition),
        OFFSET: record.offset,
        EVENT_TYPE: event_type,
    }
    if record.key is not None:
        attributes[MESSAGE_KEY] = record.key.decode("utf-8", "replace")
    return tracer.start_span(
        f"process {record.topic}", context=context, kind=SpanKind.CONSUMER, attributes=attributes
    )


def within(span: Span | None) -> AbstractContextManager[None]:
    """Run a block in `span`'s context (what it does, and what it records in the outbox, is
    part of the span); nothing at all when there is no span."""
    return _NOTHING if span is None else _current(span)


@contextlib.contextmanager
def _current(span: Span) -> Iterator[None]:
    token = otel_context.attach(trace.set_span_in_context(span))
    try:
        yield
    finally:
        otel_context.detach(token)


def outcome(span: Span, value: str) -> None:
    """handled, duplicate, ignored or dead_lettered."""
    span.set_attribute(OUTCOME, value)


def retried(span: Span, attempt: int, error: BaseException) -> None:
    span.add_event(
        "handler failed; retrying",
        {"attempt": attempt, "exception.type": type(error).__name__},
    )


def dead_lettered(span: Span, error: BaseException) -> None:
    span.set_status(Status(StatusCode.ERROR, f"{type(error).__name__}: {error}"[:500]))
    span.record_exception(error)
