"""The gateway (网关): `uvicorn gateway.main:create_app --factory --port 8000`."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from fastapi import FastAPI

from gateway.api import auth, docs
from gateway.config import GatewaySettings
from gateway.consumers import start_consumers
from gateway.dashboard import dashboard
from gateway.limits import BodyLimitMiddleware
from gateway.models import audit_log
from gateway.openapi import served_body
from gateway.ops import ops
from gateway.ops_status import ops_status
from gateway.proxy import ProxyMiddleware, probe_ready
from gateway.ratelimit import RateLimitMiddleware
from gateway.runtime import GatewayRuntime, build_runtime, close_runtime, start_runtime
from gateway.sessions.api import jwks, sessions
from yanxiu.kit import telemetry
from yanxiu.kit.app import (
    check_database,
    fastapi_telemetry,
    install_admission_control,
    install_probes,
    install_request_context,
    mount_routes,
    settle_heap,
)
from yanxiu.kit.audit_api import audit_router
from yanxiu.kit.errors import install_error_handlers
from yanxiu.kit.logging import configure_logging
from yanxiu.kit.openapi import install_openapi, operation_id
from yanxiu.kit.request_params import remember_parameter_shapes
from yanxiu.kit.route_index import index_routes

GATEWAY_REQUIRES = ("sessions",)

DESCRIPTION = (
    "研修平台的统一入口：登录、各服务接口（/api/v1/<服务>/…）。"
    " One entry to the platform: sign in, and every service under /api/v1/<service>/…"
)


def create_app(settings: GatewaySettings | None = None) -> FastAPI:
    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        s = settings or GatewaySettings()
        configure_logging(s.service_name, level=s.log_level, json=s.log_json)
        # httpx logs every upstream call at INFO; the access log already has each request.
        logging.getLogger("httpx").setLevel(logging.WARNING)
        # Before its consumers are built: they take their tracer (or none) then.
        telemetry.install(f"yanxiu-{s.service_name}")
        app.state.runtime = build_runtime(s)
        await start_runtime(app.state.runtime)
        consumers = start_consumers(s, app.state.runtime.session_factory)
        await asyncio.to_thread(served_body)  # read (or built) once, before the first request
        settle_heap()
        try:
            yield
        finally:
            if consumers is not None:
                await consumers.stop()
            await close_runtime(app.state.runtime)
            await telemetry.flush()

    remember_parameter_shapes()
    app = FastAPI(
        title="研修平台 API (Yanxiu API)",
        description=DESCRIPTION,
        version="1.0.0",
        lifespan=lifespan,
        # /openapi.json and /docs are the merged ones, served by `docs` below.
        openapi_url=None,
        docs_url=None,
        redoc_url=None,
        telemetry=fastapi_telemetry(),
        generate_unique_id_function=operation_id,
    )
    install_error_handlers(app)
    install_openapi(app)
    # Each add wraps the ones before: admission control → request id → rate limit → body
    # limit → proxy → the app's routes, so proxied requests, 429s and 413s carry X-Request-ID,
    # proxied requests are rate limited and their bodies bounded, and a request past the
    # in-flight limit is refused (503) before any of them.
    app.add_middleware(ProxyMiddleware)
    app.add_middleware(BodyLimitMiddleware)
    app.add_middleware(RateLimitMiddleware)
    install_request_context(app, "gateway")
    install_admission_control(app, "gateway")

    async def ready() -> dict[str, Any]:
        rt: GatewayRuntime = app.state.runtime
        timeout = rt.settings.probe_timeout_seconds
        database, *states = await asyncio.gather(
            check_database(rt.engine),
            *(probe_ready(rt.http, url, timeout=timeout) for url in rt.upstreams.values()),
        )
        return {
            "sessions": rt.sessions.readiness(),
            "database": database,
            **dict(zip(rt.upstreams, states, strict=True)),
        }

    # Ready once it has its keys (loaded before it listens) and has read the ended sessions.
    # Reported only: its database (sign-in needs it, forwarding does not) and each service,
    # whose outage is answered per request with a 503 problem+json (gateway.proxy); the shared
    # rate limits' Redis, which fails open (gateway.ratelimit_shared), is not checked.
    # gateway.ops serves /metrics, behind a token.
    install_probes(app, ready, service="gateway", required=GATEWAY_REQUIRES, metrics=False)
    mount_routes(app, auth)
    mount_routes(app, sessions)
    mount_routes(app, jwks)
    mount_routes(app, ops)
    mount_routes(app, ops_status)
    mount_routes(app, dashboard)
    mount_routes(app, audit_router(audit_log, prefix="/api/v1/auth", tag="auth"))
    mount_routes(app, docs)
    index_routes(app.router)
    return app
