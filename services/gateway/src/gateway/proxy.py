"""The reverse proxy (转发): /api/v1/<service>/<path> to the service, with method, query, body and
headers, the answer streamed back. A service that does not answer is a 503 problem naming it.

Forwarding uses aiohttp's keep-alive pool: under concurrency it relays several times more
requests a second than httpx's (measured in bench/learning_heartbeats.py). httpx remains for
the gateway's few own calls (readiness probes, OpenAPI documents)."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from urllib.parse import quote

import aiohttp
import httpx
import yarl
from starlette.background import BackgroundTask
from starlette.requests import ClientDisconnect, Request
from starlette.responses import Response, StreamingResponse
from starlette.types import ASGIApp, Receive, Scope, Send

from gateway.config import GatewaySettings
from gateway.errors import UnknownService, UpstreamUnavailable
from yanxiu.kit.context import trace_id_var
from yanxiu.kit.errors import DomainError, render_domain_error

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


def make_proxy_session(settings: GatewaySettings) -> aiohttp.ClientSession:
    """One keep-alive pool for every forwarded request of the process. Bodies are relayed as
    they are (no decompression) and no default headers are added."""
    return aiohttp.ClientSession(
        connector=aiohttp.TCPConnector(
            limit=settings.upstream_max_connections, keepalive_timeout=30, ttl_dns_cache=300
        ),
        timeout=aiohttp.ClientTimeout(
            total=settings.upstream_timeout_seconds,
            sock_connect=settings.upstream_connect_timeout_seconds,
        ),
        auto_decompress=False,
        skip_auto_headers=("User-Agent", "Accept", "Accept-Encoding", "Content-Type"),
        trust_env=False,
    )


# Bodies up to this size are read whole (one write upstream); larger ones are streamed.
_BUFFERED_BODY = 256 * 1024


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


async def _relay(upstream: aiohttp.ClientResponse, service: str) -> AsyncIterator[bytes]:
    try:
        async for chunk in upstream.content.iter_any():
            yield chunk
    except (TimeoutError, aiohttp.ClientError) as exc:
        # The status line is already sent; all that is left is to cut the response short.
        log.warning("upstream body broke off", extra={"service": service, "error": repr(exc)})
    finally:
        upstream.release()


async def forward(
    session: aiohttp.ClientSession,
    request: Request,
    *,
    service: str,
    base_url: str,
    path: str,
) -> Response:
    url = base_url + upstream_path(request, service, path)
    if request.url.query:
        url += "?" + request.url.query
    length = request.headers.get("content-length")
    body: bytes | AsyncIterator[bytes] | None = None
    try:
        if length is not None and int(length) <= _BUFFERED_BODY:
            body = await request.body()
        elif length is not None or "transfer-encoding" in request.headers:
            body = request.stream()
    except ClientDisconnect:
        return Response(status_code=400)
    except ValueError:
        return Response(status_code=400)  # a Content-Length that is not a number
    headers = [
        (k.decode("latin-1"), v.decode("latin-1")) for k, v in forwarded_headers(request, service)
    ]
    try:
        upstream = await session.request(
            request.method,
            yarl.URL(url, encoded=True),
            headers=headers,
            data=body,
            allow_redirects=False,
        )
    except (TimeoutError, aiohttp.ClientError) as exc:
        log.warning("upstream unavailable", extra={"service": service, "error": repr(exc)})
        raise UpstreamUnavailable(service) from exc
    except ClientDisconnect:
        return Response(status_code=400)
    dropped = _dropped(upstream.headers.get("connection", "")) | _SERVER_OWNED
    raw_headers = [
        (k, v) for k, v in upstream.raw_headers if k.decode("latin-1").lower() not in dropped
    ]
    if upstream.content_length is not None and upstream.content_length <= _BUFFERED_BODY:
        # Small answers (nearly all) in one piece: cheaper than a streamed response.
        try:
            content = await upstream.read()
        except (TimeoutError, aiohttp.ClientError) as exc:
            raise UpstreamUnavailable(service) from exc
        finally:
            upstream.release()
        response = Response(content=content, status_code=upstream.status)
        response.raw_headers = raw_headers
        return response
    streamed = StreamingResponse(
        _relay(upstream, service),
        status_code=upstream.status,
        background=BackgroundTask(upstream.release),
    )
    streamed.raw_headers = raw_headers
    return streamed


async def probe_ready(client: httpx.AsyncClient, base_url: str, *, timeout: float) -> str:
    """A service's own /readyz, as one word for the gateway's /readyz."""
    try:
        answer = await client.get(f"{base_url}/readyz", timeout=timeout)
    except httpx.HTTPError as exc:
        return f"error: {type(exc).__name__}"
    return "ok" if answer.status_code == 200 else f"unavailable: HTTP {answer.status_code}"


class ProxyMiddleware:
    """Requests under /api/v1/<service>/… go to the proxy here, ahead of FastAPI's router and
    dependency machinery, which would otherwise cost more than the forwarding itself. It sits
    inside the request-id and rate-limit middlewares, so both still apply; /api/v1/auth and
    anything else falls through to the app's own routes."""

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
        request = Request(scope, receive)
        response: Response
        try:
            base_url = rt.upstreams.get(service)
            if base_url is None:
                raise UnknownService(service)
            response = await forward(
                rt.proxy_http, request, service=service, base_url=base_url, path=rest
            )
        except DomainError as exc:
            response = render_domain_error(exc, path)
        await response(scope, receive, send)


_API = "/api/v1/"
_OWN = frozenset({"auth"})  # the gateway's own routes under /api/v1
