"""W3C Trace Context (`traceparent`) at the platform's edges: read from a request, answered on
its response, sent on to the service the gateway forwards to, and put on every event the
relay publishes, so one trace id follows a teacher's click through the gateway, the service,
the outbox and every consumer (whose logs carry the envelope's trace id).

    traceparent: 00-<trace-id: 32 hex>-<parent span id: 16 hex>-<flags: 2 hex>

Only version 00 is read; an invalid or all-zero header is ignored (a new trace begins), as
the specification asks. Spans are exported only where OpenTelemetry is configured
(`yanxiu.kit.telemetry`, and FastAPI's own through `yanxiu.kit.app.fastapi_telemetry`); the
header is carried either way."""

from __future__ import annotations

import os
import re
from contextvars import ContextVar
from typing import NamedTuple

_TRACEPARENT = re.compile(rb"00-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})")
_TRACE_ID = re.compile(r"[0-9a-f]{32}")
_ZERO_TRACE = "0" * 32
_ZERO_SPAN = "0" * 16

# This process's span of the current request (its id goes out as the parent of what it calls).
span_id_var: ContextVar[str | None] = ContextVar("span_id", default=None)
# The caller's sampling flags, passed on unchanged ("01": sampled).
flags_var: ContextVar[str] = ContextVar("trace_flags", default="01")


class Parent(NamedTuple):
    trace_id: str
    span_id: str
    flags: str


def parse(value: bytes) -> Parent | None:
    """The parent a `traceparent` header names, or None for one that is absent or invalid."""
    found = _TRACEPARENT.fullmatch(value.strip())
    if found is None:
        return None
    trace_id, span_id, flags = (g.decode("ascii") for g in found.groups())
    if trace_id == _ZERO_TRACE or span_id == _ZERO_SPAN:
        return None
    return Parent(trace_id, span_id, flags)


def new_span_id() -> str:
    return os.urandom(8).hex()


def is_trace_id(value: str | None) -> bool:
    return value is not None and _TRACE_ID.fullmatch(value) is not None and value != _ZERO_TRACE


def traceparent(trace_id: str, span_id: str | None = None, flags: str = "01") -> bytes | None:
    """The header naming `span_id` (a new one if not given) in `trace_id`'s trace; None when
    the trace id is not a W3C one (a caller's own X-Request-ID, say)."""
    if not is_trace_id(trace_id):
        return None
    return f"00-{trace_id}-{span_id or new_span_id()}-{flags}".encode("ascii")


_PAYLOAD_TRACE = re.compile(rb'"trace_id"\s*:\s*"([0-9a-f]{32})"')


def trace_id_of(payload: bytes) -> str | None:
    """The trace id an event's envelope carries, if it is a W3C one."""
    found = _PAYLOAD_TRACE.search(payload)
    return found[1].decode("ascii") if found else None


def of_payload(payload: bytes) -> bytes | None:
    """The `traceparent` for an event: its envelope's trace id, a new span for the publish
    (where spans are exported, the relay's publish span instead: yanxiu.kit.telemetry)."""
    trace_id = trace_id_of(payload)
    return traceparent(trace_id) if trace_id else None
