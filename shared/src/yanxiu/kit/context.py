"""Per-request / per-message context: the trace id that follows a request into its events."""

from __future__ import annotations

import os
from contextvars import ContextVar

# The scope key where a middleware that answers for a route of its own (the gateway's proxy)
# names it for the request metrics, since no Starlette route is put in the scope for it.
FORWARDED_ROUTE = "yanxiu.route"

trace_id_var: ContextVar[str | None] = ContextVar("trace_id", default=None)


def current_trace_id() -> str:
    return trace_id_var.get() or new_trace_id()


def new_trace_id() -> str:
    """128 random bits as 32 hex digits (the form of a W3C trace-id); every request makes one,
    and building a `uuid.UUID` to print it cost about three times the random bytes."""
    return os.urandom(16).hex()
