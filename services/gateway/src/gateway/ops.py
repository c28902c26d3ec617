"""What the public port does not serve: each service's operations routes (metrics, docs,
OpenAPI, probes) stay on the service's own internal port, and the gateway's own /metrics
answers only the scraper's bearer token (GATEWAY_METRICS_TOKEN; without one it is not there)."""

from __future__ import annotations

import hmac
import posixpath

from fastapi import APIRouter, Request, Response

from yanxiu.kit.app import metrics_response
from yanxiu.kit.errors import NotFound, Unauthorized

_SERVICE_OPS = frozenset({"/metrics", "/docs", "/redoc", "/openapi.json", "/healthz", "/readyz"})


def is_service_ops_path(rest: str) -> bool:
    """`rest` is the path after /api/v1/<service>. Normalised first, so that `//metrics`,
    `/./docs` or `/x/../metrics` are not a way round."""
    path = posixpath.normpath("/" + rest.lstrip("/")) if rest else "/"
    return path in _SERVICE_OPS or path.startswith("/docs/")


class NoSuchRoute(NotFound):
    code = "not_found"
    title_zh = "接口不存在"
    title_en = "No such route"


class MetricsTokenRequired(Unauthorized):
    code = "metrics_token_required"
    title_zh = "需要监控令牌"
    title_en = "The metrics bearer token is required"


ops = APIRouter(include_in_schema=False)


@ops.get("/metrics")
async def metrics(request: Request) -> Response:
    # The runtime read off the app (not the Runtime dependency): the proxy imports this module.
    expected: str = request.app.state.runtime.settings.metrics_token
    if not expected:
        raise NoSuchRoute()
    scheme, _, given = request.headers.get("authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not hmac.compare_digest(
        given.strip().encode(), expected.encode()
    ):
        raise MetricsTokenRequired()
    return await metrics_response()
