"""The reverse proxy (转发): /api/v1/<service>/<path> to the service, with method, query, body and
headers, the answer streamed back. A service that does not answer is a 503 problem naming it.

Forwarding works on the raw ASGI messages and the gateway's own upstream pools
(gateway.upstream): on the platform's hottest path (heartbeats) Starlette's request and response
objects and aiohttp's client cost more than the forwarding itself. httpx remains for the
gateway's few own calls (readiness probes, OpenAPI documents)."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator

import httpx
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from gateway.config import GatewaySettings
from gateway.errors import UnknownService, UpstreamUnavailable
from gateway.ops import NoSuchRoute, is_service_ops_path
from gateway.sessions.view import ended_session
from gateway.upstream import Connection, Headers, Pools, UpstreamError, UpstreamPool
from yanxiu.kit.context import FORWARDED_ROUTE, trace_id_var
from yanxiu.kit.errors import DomainError, render_domain_error
from yanxiu.kit.readiness import DEGRADED, OK
from yanxiu.kit.tracecontext import flags_var, span_id_var, traceparent

log = logging.getLogger(__name__)

HOP_BY_HOP = frozenset(
    {
        b"connection",
        b"keep-alive",
        b"proxy-authenticate",
        b"proxy-authorization",
        b"proxy-connection",
        b"te",
        b"trailer",
        b"trailers",
        b"transfer-encoding",
        b"upgrade",
    }
)
# Set afresh by the gateway for each forwarded request (the body's framing included; an
# `Expect: 100-continue` was the gateway's own server's to answer).
_REPLACED = frozenset(
    {b"host", b"x-request-id", b"x-forwarded-for", b"content-length", b"expect", b"traceparent"}
)
# The gateway's own server writes these on every response; two of each would go out.
_SERVER_OWNED = frozenset({b"date", b"server"})
# The client's headers the proxy itself reads.
_READ = frozenset(
    {b"connection", b"content-length", b"transfer-encoding", b"host", b"x-forwarded-for"}
)
# Bodies up to this size are read whole (one write upstream); larger ones are streamed.
_BUFFERED_BODY = 256 * 1024


def make_client(settings: GatewaySettings) -> httpx.AsyncClient:
    """One keep-alive pool for the gateway's own upstream calls (probes, OpenAPI)."""
    client = httpx.AsyncClient(
        timeout=httpx.Timeout(
            settings.upstream_timeout_seconds, connect=settings.upstream_connect_timeout_seconds
        ),
        limits=httpx.Limits(
            max_connections=settings.upstream_max_connections,
            max_keepalive_connections=settings.upstream_max_connections,
        ),
        follow_redirects=False,
        trust_env=False,
    )
    # Forward the client's own headers only, not httpx's defaults (a gzip the client never
    # asked for would be passed through undecoded).
    for name in ("accept", "accept-encoding", "user-agent"):
        del client.headers[name]
    return client


def make_pools(settings: GatewaySettings) -> Pools:
    """The forwarding pools: one per service URL, each of up to `upstream_max_connections`."""
    return Pools(
        limit=settings.upstream_max_connections,
        connect_timeout=settings.upstream_connect_timeout_seconds,
        timeout=settings.upstream_timeout_seconds,
    )


def _dropped(connection_header: bytes) -> frozenset[bytes]:
    """Hop-by-hop headers, including any the Connection header names."""
    listed = {h.strip().lower() for h in connection_header.split(b",") if h.strip()}
    return HOP_BY_HOP | listed


def upstream_target(scope: Scope, service: str) -> bytes:
    """The path after /api/v1/<service> as the client encoded it, with the query."""
    prefix = f"/api/v1/{service}".encode("latin-1")
    raw = scope.get("raw_path") or scope["path"].encode("utf-8")
    target = raw[len(prefix) :] if raw.startswith(prefix + b"/") else b"/"
    query: bytes = scope.get("query_string", b"")
    return target + b"?" + query if query else target


def forwarded_headers(scope: Scope, service: str) -> tuple[Headers, dict[bytes, bytes]]:
    """The headers to send on, and the few of the client's the proxy itself reads."""
    seen: dict[bytes, bytes] = {}
    for name, value in scope["headers"]:
        if (
            name in (b"connection", b"content-length", b"transfer-encoding", b"host")
            or name == b"x-forwarded-for"
        ):
            seen[name] = value
    dropped = _dropped(seen.get(b"connection", b"")) | _REPLACED
    headers = [(k, v) for k, v in scope["headers"] if k not in dropped]
    client = scope.get("client")
    peer = (client[0] if client else "unknown").encode("latin-1")
    chain = seen.get(b"x-forwarded-for")
    trace_id = trace_id_var.get() or ""
    headers += [
        (b"x-request-id", trace_id.encode("latin-1")),
        (b"x-forwarded-for", chain + b", " + peer if chain else peer),
        (b"x-forwarded-proto", scope.get("scheme", "http").encode("latin-1")),
        (b"x-forwarded-prefix", f"/api/v1/{service}".encode("latin-1")),
    ]
    if b"host" in seen:
        headers.append((b"x-forwarded-host", seen[b"host"]))
    # The gateway's own span is the parent of the service's (the client's header is replaced).
    parent = traceparent(trace_id, span_id_var.get(), flags_var.get())
    if parent is not None:
        headers.append((b"traceparent", parent))
    return headers, seen


class ClientGone(Exception):
    """The client went away while its request body was being read."""


async def _read_body(receive: Receive) -> bytes:
    parts: list[bytes] = []
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            raise ClientGone()
        parts.append(message.get("body", b""))
        if not message.get("more_body", False):
            return b"".join(parts)


async def _stream_body(receive: Receive) -> AsyncIterator[bytes]:
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            raise ClientGone()
        yield message.get("body", b"")
        if not message.get("more_body", False):
            return


async def _answer(status: int, send: Send) -> None:
    await send({"type": "http.response.start", "status": status, "headers": []})
    await send({"type": "http.response.body", "body": b""})


async def forward(
    pool: UpstreamPool, scope: Scope, receive: Receive, send: Send, *, service: str
) -> None:
    """Forwards one request and relays the answer. Raises UpstreamUnavailable (503) only
    before anything was sent back."""
    headers, seen = forwarded_headers(scope, service)
    method = scope["method"].encode("latin-1")
    length = seen.get(b"content-length")
    body: bytes | AsyncIterator[bytes] = b""
    chunked = False
    try:
        if length is not None:
            if not length.isdigit():
                await _answer(400, send)  # a Content-Length that is not a number
                return
            headers.append((b"content-length", length))
            if int(length) <= _BUFFERED_BODY:
                body = await _read_body(receive)
            else:
                body = _stream_body(receive)
        elif b"transfer-encoding" in seen:
            headers.append((b"transfer-encoding", b"chunked"))
            body, chunked = _stream_body(receive), True
    except ClientGone:
        return
    try:
        head, conn = await pool.exchange(
            method, upstream_target(scope, service), headers, body, chunked=chunked
        )
    except ClientGone:
        return
    except UpstreamError as exc:
        log.warning("upstream unavailable", extra={"service": service, "error": repr(exc)})
        raise UpstreamUnavailable(service) from exc
    reusable = False
    try:
        reusable = await _relay(pool, conn, head.status, head.headers, send, method, service)
    finally:
        pool.release(conn, reusable=reusable)


async def _relay(
    pool: UpstreamPool,
    conn: Connection,
    status: int,
    upstream_headers: Headers,
    send: Send,
    method: bytes,
    service: str,
) -> bool:
    """Sends the answer on; True when it was read to its end (the connection may be reused)."""
    connection = next((v for k, v in upstream_headers if k.lower() == b"connection"), b"")
    dropped = _dropped(connection) | _SERVER_OWNED
    headers = [(k.lower(), v) for k, v in upstream_headers if k.lower() not in dropped]
    start: Message = {"type": "http.response.start", "status": status, "headers": headers}
    if method == b"HEAD":
        await send(start)
        await send({"type": "http.response.body", "body": b""})
        return False  # the answer's end is not parsed; the connection is not reused
    whole = conn.buffered_whole()
    if whole is None:
        # Not all here yet: wait for the first piece before answering, so a service that
        # stalls before its body is still a 503, not a cut-off 200.
        try:
            first = await conn.read(pool.timeout)
        except UpstreamError as exc:
            log.warning("upstream unavailable", extra={"service": service, "error": repr(exc)})
            raise UpstreamUnavailable(service) from exc
        whole = conn.buffered_whole() if first is None else None
        if whole is None:
            await send(start)
            if first is not None:
                await send({"type": "http.response.body", "body": first, "more_body": True})
            try:
                while (chunk := await conn.read(pool.timeout)) is not None:
                    await send({"type": "http.response.body", "body": chunk, "more_body": True})
            except UpstreamError as exc:
                # The status line is already sent; all that is left is to cut the answer short
                # (returning unfinished makes the server close the client's connection).
                log.warning(
                    "upstream body broke off", extra={"service": service, "error": repr(exc)}
                )
                return False
            await send({"type": "http.response.body", "body": b""})
            return True
    await send(start)
    await send({"type": "http.response.body", "body": whole})
    return True


async def probe_ready(client: httpx.AsyncClient, base_url: str, *, timeout: float) -> str:
    """A service's own /readyz, in a few words for the gateway's: "ok", "degraded: <the checks
    failing>" (it serves, but its broker or events are not well), "unavailable: HTTP 503" or
    "error: …" (it cannot be reached)."""
    try:
        answer = await client.get(f"{base_url}/readyz", timeout=timeout)
    except httpx.HTTPError as exc:
        return f"error: {type(exc).__name__}"
    if answer.status_code != 200:
        return f"unavailable: HTTP {answer.status_code}"
    try:
        body = answer.json()
    except ValueError:
        return OK
    if not isinstance(body, dict) or body.get("status", OK) == OK:
        return OK
    checks = body.get("checks")
    failing = [k for k, v in checks.items() if v != OK] if isinstance(checks, dict) else []
    return f"{DEGRADED}: {', '.join(failing)}" if failing else DEGRADED


class ProxyMiddleware:
    """Requests under /api/v1/<service>/… go to the proxy here, ahead of FastAPI's router and
    dependency machinery, which would otherwise cost more than the forwarding itself. It sits
    inside the request-id, rate-limit and body-limit middlewares, so they still apply; /api/v1/auth
    and anything else falls through to the app's own routes. A service's ops routes are not
    forwarded, nor a bearer token whose session has ended (the service cannot know that)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        path: str = scope.get("path", "")
        if scope["type"] != "http" or not path.startswith(_API):
            await self.app(scope, receive, send)
            return
        service, sep, rest = path[len(_API) :].partition("/")
        if not sep or service in _OWN:
            await self.app(scope, receive, send)
            return
        rt = scope["app"].state.runtime
        try:
            base_url = rt.upstreams.get(service)
            if base_url is None:
                raise UnknownService(service)
            if is_service_ops_path(rest):
                raise NoSuchRoute()  # served on the service's own port only
            # One series per service here; the service's own metrics have its routes.
            scope[FORWARDED_ROUTE] = f"{_API}{service}/{{path}}"
            ended = ended_session(rt.verifier, scope)
            if ended is not None:
                raise ended
            await forward(rt.pools.for_url(base_url), scope, receive, send, service=service)
        except DomainError as exc:
            await render_domain_error(exc, path)(scope, receive, send)


_API = "/api/v1/"
_OWN = frozenset({"auth", "ops"})  # the gateway's own routes under /api/v1
