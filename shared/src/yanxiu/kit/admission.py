"""Admission control: past what a process can finish quickly, a request is refused at once.

A process that accepts every request under a burst queues them all on its event loop and its
database pool: each waits behind the others, every caller sees seconds, and callers that give up
leave their work behind to be done anyway. Refusing the excess within a millisecond (503 with
`Retry-After`) keeps the admitted requests fast and tells the rest when to come back; a client or
a load balancer can act on a refusal, not on a hang.

The limit counts the requests this process is working on (one counter per process, no lock: the
event loop runs one step at a time). Probes are never refused, so that an orchestrator does not
take a busy process for a dead one.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from typing import ClassVar

from starlette.types import ASGIApp, Receive, Scope, Send

from yanxiu.kit.context import new_trace_id, trace_id_var
from yanxiu.kit.errors import ServiceUnavailable, render_domain_error
from yanxiu.kit.faults import Throttled
from yanxiu.kit.metrics import HTTP_INFLIGHT, HTTP_REJECTED, HTTP_REQUESTS

log = logging.getLogger(__name__)

# Liveness, readiness and scraping must answer however busy the process is.
PROBES = frozenset({"/healthz", "/readyz", "/metrics"})


class Overloaded(ServiceUnavailable):
    """The process is at its limit of requests in flight: nothing was done, and the same request
    is admitted once the burst has passed (a second later, typically)."""

    code = "overloaded"
    title_zh = "服务繁忙，请稍后再试"
    title_en = "Service is overloaded; try again shortly"
    retry_after: ClassVar[int] = 1

    def __init__(self) -> None:
        super().__init__(retry_after=self.retry_after)


class AdmissionControl:
    """Plain ASGI, meant to be the outermost of the app's middlewares: a refused request costs
    one comparison and a small JSON answer, and reaches nothing behind it (no request id
    middleware, no routing, no database).

    `limit` is a number, or a function returning it when the settings are only read by the
    lifespan (as `create_service_app` does): it is asked on every request, which costs less
    than a microsecond and always follows the app's current settings."""

    def __init__(self, app: ASGIApp, service: str, limit: int | Callable[[], int]) -> None:
        self.app = app
        self.service = service
        self.limit = limit
        self.inflight = 0
        self._gauge = HTTP_INFLIGHT.labels(service)
        self._rejected = HTTP_REJECTED.labels(service, "overloaded")
        self._refusals = Throttled(log, every=5.0)

    def current_limit(self) -> int:
        return self.limit if isinstance(self.limit, int) else self.limit()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"] in PROBES:
            await self.app(scope, receive, send)
            return
        if self.inflight >= self.current_limit():
            await self._refuse(scope, receive, send)
            return
        self.inflight += 1
        self._gauge.inc()
        try:
            if self.inflight > 1:
                # Others are in flight: let what the loop already holds (in a burst, the
                # refusals just parsed, 0.1 ms each) go before this request's first steps
                # (token, dependencies, statement: milliseconds before its first wait).
                # Without it, a burst's refusals waited behind every admitted request's first
                # steps: 30-50 ms before the first one left (80 at once, limit 8), 5-12 ms with
                # it. One pass through the loop costs a few microseconds.
                await asyncio.sleep(0)
            await self.app(scope, receive, send)
        finally:
            self.inflight -= 1
            self._gauge.dec()

    async def _refuse(self, scope: Scope, receive: Receive, send: Send) -> None:
        """503 problem+json shaped like every other error, with the caller's request id (or a
        new one) as its trace id and X-Request-ID, as the request id middleware would give."""
        self._rejected.inc()
        # Refused before any route was matched: its own route label.
        HTTP_REQUESTS.labels(self.service, scope["method"], "refused", "503").inc()
        headers = dict(scope["headers"])
        rid = headers.get(b"x-request-id", b"").decode("latin-1") or new_trace_id()
        prefix = headers.get(b"x-forwarded-prefix", b"").decode("latin-1").rstrip("/")
        self._refusals.warning(
            "refusing requests: too many in flight",
            extra={"limit": self.current_limit(), "path": scope["path"], "trace_id": rid},
        )
        token = trace_id_var.set(rid)
        try:
            answer = render_domain_error(Overloaded(), prefix + scope["path"])
        finally:
            trace_id_var.reset(token)
        answer.headers["x-request-id"] = rid
        await answer(scope, receive, send)
