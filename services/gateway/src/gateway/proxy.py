"""The reverse proxy (转发): /api/v1/<service>/<path> to the service, with method, query, body and
headers, the answer streamed back. A service that does not answer is a 503 problem naming it."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from urllib.parse import quote

import httpx
from starlette.background import BackgroundTask
from starlette.requests import ClientDisconnect, Request
from starlette.responses import Response, StreamingResponse

from gateway.config import GatewaySettings
from gateway.errors import UpstreamUnavailable
from yanxiu.kit.context import trace_id_var

log = logging.getLogger(__name__)

HOP_BY_HOP = frozenset(
    {
        "connection",
        "keep-alive",
        "proxy-authenticate",
        "proxy-authorization",
        "proxy-connection",
        "te",
        "trailer",
        "trailers",
        "transfer-encoding",
        "upgrade",
    }
)
# Set afresh by the gateway for each forwarded request.
_REPLACED = frozenset({"host", "x-request-id", "x-forwarded-for"})
# The gateway's own server writes these on every response; two of each would go out.
_SERVER_OWNED = frozenset({"date", "server"})


def make_client(settings: GatewaySettings) -> httpx.AsyncClient:
    """One keep-alive pool for every upstream call of the process."""
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


def _dropped(connection_header: str) -> frozenset[str]:
    """Hop-by-hop headers, including any the Connection header names."""
    listed = {h.strip().lower() for h in connection_header.split(",") if h.strip()}
    return HOP_BY_HOP | listed


def upstream_path(request: Request, service: str, path: str) -> str:
    """The path after /api/v1/<service>, kept as the client encoded it where possible."""
    prefix = f"/api/v1/{service}"
    raw = request.scope.get("raw_path")
    if isinstance(raw, bytes):
        raw_path = raw.decode("latin-1")
        if raw_path.startswith(prefix + "/"):
            return raw_path[len(prefix) :]
    return "/" + quote(path)


def forwarded_headers(request: Request, service: str) -> list[tuple[bytes, bytes]]:
    dropped = _dropped(request.headers.get("connection", "")) | _REPLACED
    headers = [(k, v) for k, v in request.headers.raw if k.decode("latin-1").lower() not in dropped]
    peer = request.client.host if request.client else "unknown"
    chain = request.headers.get("x-forwarded-for")
    headers += [
        (b"x-request-id", (trace_id_var.get() or "").encode("latin-1")),
        (b"x-forwarded-for", (f"{chain}, {peer}" if chain else peer).encode("latin-1")),
        (b"x-forwarded-proto", request.url.scheme.encode("latin-1")),
        (b"x-forwarded-prefix", f"/api/v1/{service}".encode("latin-1")),
    ]
    if "host" in request.headers:
        headers.append((b"x-forwarded-host", request.headers["host"].encode("latin-1")))
    return headers


async def _relay(upstream: httpx.Response, service: str) -> AsyncIterator[bytes]:
    try:
        async for chunk in upstream.aiter_raw():
            yield chunk
    except httpx.HTTPError as exc:
        # The status line is already sent; all that is left is to cut the response short.
        log.warning("upstream body broke off", extra={"service": service, "error": repr(exc)})
    finally:
        await upstream.aclose()


async def forward(
    client: httpx.AsyncClient, request: Request, *, service: str, base_url: str, path: str
) -> Response:
    url = base_url + upstream_path(request, service, path)
    if request.url.query:
        url += "?" + request.url.query
    has_body = "content-length" in request.headers or "transfer-encoding" in request.headers
    outgoing = client.build_request(
        request.method,
        url,
        headers=forwarded_headers(request, service),
        content=request.stream() if has_body else None,
    )
    try:
        upstream = await client.send(outgoing, stream=True)
    except httpx.TransportError as exc:
        log.warning("upstream unavailable", extra={"service": service, "error": repr(exc)})
        raise UpstreamUnavailable(service) from exc
    except ClientDisconnect:
        return Response(status_code=400)
    dropped = _dropped(upstream.headers.get("connection", "")) | _SERVER_OWNED
    response = StreamingResponse(
        _relay(upstream, service),
        status_code=upstream.status_code,
        background=BackgroundTask(upstream.aclose),
    )
    response.raw_headers = [
        (k, v) for k, v in upstream.headers.raw if k.decode("latin-1").lower() not in dropped
    ]
    return response


async def probe_ready(client: httpx.AsyncClient, base_url: str, *, timeout: float) -> str:
    """A service's own /readyz, as one word for the gateway's /readyz."""
    try:
        answer = await client.get(f"{base_url}/readyz", timeout=timeout)
    except httpx.HTTPError as exc:
        return f"error: {type(exc).__name__}"
    return "ok" if answer.status_code == 200 else f"unavailable: HTTP {answer.status_code}"
