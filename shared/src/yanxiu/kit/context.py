"""Per-request / per-message context: the trace id that follows a request into its events."""

from __future__ import annotations

import uuid
from contextvars import ContextVar

trace_id_var: ContextVar[str | None] = ContextVar("trace_id", default=None)


def current_trace_id() -> str:
    return trace_id_var.get() or uuid.uuid4().hex


def new_trace_id() -> str:
    return uuid.uuid4().hex
