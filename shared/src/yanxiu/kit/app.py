"""Builds a service's FastAPI app: lifespan (engine, producer, relay, consumers), middleware
(admission control, request id, access log, metrics), problem+json errors, /healthz, /readyz
and /metrics."""

from __future__ import annotations

import asyncio
import contextlib
import gc
import logging
import os
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Collection, Mapping, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any

from aiokafka import AIOKafkaProducer
from fastapi import APIRouter, FastAPI, Response
from fastapi.datastructures import DefaultPlaceholder
from fastapi.responses import JSONResponse
from fastapi.telemetry import TelemetryConfig
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from sqlalchemy import MetaData, Table, text
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from yanxiu.kit import telemetry
from yanxiu.kit.admission import AdmissionControl
from yanxiu.kit.audit_api import audit_router
from yanxiu.kit.auth import TokenVerifier
from yanxiu.kit.broker import broker_reachable, ensure_topics, make_producer
from yanxiu.kit.consumer import ConsumerRunner, Subscriber
from yanxiu.kit.context import FORWARDED_ROUTE, new_trace_id, trace_id_var
from yanxiu.kit.db import (
    make_engine,
    make_read_session_factory,
    make_session_factory,
    statements_var,
)
from yanxiu.kit.dlq import DeadLetters, count_dead_letters
from yanxiu.kit.dlq_api import dlq_router
from yanxiu.kit.errors import install_error_handlers
from yanxiu.kit.hotpath import Endpoint, HotRoutes
from yanxiu.kit.housekeeping import Job, start_housekeeping
from yanxiu.kit.logging import configure_logging
from yanxiu.kit.metrics import (
    BROKER_REACHABLE,
    HTTP_DB_STATEMENTS,
    HTTP_REQUESTS,
    HTTP_SECONDS,
    READY,
)
from yanxiu.kit.openapi import install_openapi, operation_id
from yanxiu.kit.outbox import Outbox
from yanxiu.kit.pool_metrics import watch_pools
from yanxiu.kit.readiness import OK, UNAVAILABLE, verdict
from yanxiu.kit.reads import Reader
from yanxiu.kit.relay import OutboxRelay
from yanxiu.kit.request_params import remember_parameter_shapes
from yanxiu.kit.route_index import index_routes
from yanxiu.kit.settings import KitSettings
from yanxiu.kit.tracecontext import flags_var, new_span_id, span_id_var, traceparent
from yanxiu.kit.tracecontext import parse as parse_traceparent

log = logging.getLogger(__name__)


@dataclass
class ServiceSpec:
    """What a service is made of; `create_service_app` does the rest."""

    name: str
    metadata: MetaData
    routers: list[APIRouter]
    settings_factory: Callable[[], KitSettings]
    subscribers: list[Subscriber] = field(default_factory=list)
    produces: list[str] = field(default_factory=list)
    title: str = ""
    on_startup: Callable[[Runtime], Awaitable[None]] | None = None
    # (method, exact path) → endpoint, dispatched ahead of the router (see kit.hotpath).
    hot_routes: dict[tuple[str, str], Endpoint] = field(default_factory=dict)
    # The service's own pruning jobs, besides the machinery tables' (kit.housekeeping).
    housekeeping: Callable[[Any], Sequence[Job]] | None = None
    # ASGI middleware classes taking the app alone, first listed outermost; they run inside
    # admission control and the request context, so their requests are admitted and counted.
    middleware: list[Callable[[ASGIApp], ASGIApp]] = field(default_factory=list)

    @property
    def schema(self) -> str:
        assert self.metadata.schema
        return self.metadata.schema

    def table(self, name: str) -> Table:
        return self.metadata.tables[f"{self.schema}.{name}"]


@dataclass
class Runtime:
    """Everything a running service holds; lives on `app.state.runtime`."""

    spec: ServiceSpec
    settings: KitSettings
    engine: AsyncEngine
    session_factory: async_sessionmaker[AsyncSession]
    read_session_factory: async_sessionmaker[AsyncSession]
    reader: Reader
    producer: AIOKafkaProducer
    verifier: TokenVerifier
    outbox: Outbox
    producer_ready: asyncio.Event = field(default_factory=asyncio.Event)
    relay: OutboxRelay | None = None
    runners: list[ConsumerRunner] = field(default_factory=list)
    tasks: list[asyncio.Task[Any]] = field(default_factory=list)
    extras: dict[str, Any] = field(default_factory=dict)

    @property
    def dlq_topic(self) -> str:
        return f"{self.spec.name}.dlq.v1"

    def all_topics(self) -> list[str]:
        topics = [*list(self.spec.produces), self.dlq_topic]
        for sub in self.spec.subscribers:
            topics.extend(sub.topics)
        return [self.settings.topic(t) for t in dict.fromkeys(topics)]


async def _start_kafka(rt: Runtime) -> None:
    """Start the producer and create topics, retrying until the broker answers."""
    delay = 0.2
    while True:
        try:
            await ensure_topics(rt.settings, rt.all_topics())
            await rt.producer.start()
            rt.producer_ready.set()
            return
        except asyncio.CancelledError:
            raise
        except Exception as exc:
            log.warning("broker not ready; retrying", extra={"error": repr(exc), "in": delay})
            await asyncio.sleep(delay)
            delay = min(delay * 2, 5.0)


async def _after_ready(rt: Runtime, fn: Callable[[], Awaitable[None]]) -> None:
    await rt.producer_ready.wait()
    await fn()


def build_runtime(spec: ServiceSpec, settings: KitSettings) -> Runtime:
    engine = make_engine(
        settings.database_url,
        pool_size=settings.db_pool_size,
        connect_timeout=settings.db_connect_timeout,
        pool_timeout=settings.db_pool_timeout,
    )
    rt = Runtime(
        spec=spec,
        settings=settings,
        engine=engine,
        session_factory=make_session_factory(engine),
        read_session_factory=make_read_session_factory(engine),
        reader=Reader(
            settings.database_url,
            size=settings.db_read_pool_size,
            connect_timeout=settings.db_connect_timeout,
            acquire_timeout=settings.db_pool_timeout,
        ),
        producer=make_producer(settings),
        verifier=TokenVerifier(
            settings.public_key_pem(), issuer=settings.jwt_issuer, jwks_url=settings.jwt_jwks_url
        ),
        outbox=Outbox(spec.table("outbox"), producer=spec.name),
    )
    if settings.run_relay:
        rt.relay = OutboxRelay(
            engine=engine,
            producer=rt.producer,
            schema=spec.schema,
            settings=settings,
            topics=spec.produces,
            ensure=[rt.dlq_topic],
        )
    if settings.run_consumers:
        rt.runners = [
            ConsumerRunner(
                subscriber=sub,
                settings=settings,
                session_factory=rt.session_factory,
                inbox=spec.table("inbox"),
                dlq_producer=rt.producer,
                dlq_topic=rt.dlq_topic,
            )
            for sub in spec.subscribers
        ]
    watch_pools(spec.name, rt.engine, rt.reader)
    return rt


async def start_runtime(rt: Runtime) -> None:
    rt.tasks.append(asyncio.create_task(_start_kafka(rt), name=f"{rt.spec.name}-kafka"))
    if rt.verifier.jwks_url:
        rt.tasks.append(asyncio.create_task(rt.verifier.refresh_keys(), name="jwks"))
    if rt.relay is not None:
        rt.tasks.append(asyncio.create_task(_after_ready(rt, rt.relay.run)))
    for runner in rt.runners:
        rt.tasks.append(asyncio.create_task(_after_ready(rt, runner.run)))
    dispositions = rt.spec.metadata.tables.get(f"{rt.spec.schema}.dlq_dispositions")
    if dispositions is not None and rt.settings.dlq_depth_interval_seconds > 0:
        letters = DeadLetters(settings=rt.settings, service=rt.spec.name, table=dispositions)
        rt.tasks.append(
            asyncio.create_task(
                count_dead_letters(letters, rt.engine, rt.settings.dlq_depth_interval_seconds),
                name=f"{rt.spec.name}-dlq-depth",
            )
        )
    housekeeping = start_housekeeping(
        rt.settings,
        schema=rt.spec.schema,
        tables=[t.name for t in rt.spec.metadata.tables.values()],
        extra=rt.spec.housekeeping(rt.settings) if rt.spec.housekeeping else (),
    )
    if housekeeping is not None:
        rt.tasks.append(housekeeping)
    if rt.spec.on_startup is not None:
        await rt.spec.on_startup(rt)


STOP_TIMEOUT = 10.0


async def stop_runtime(rt: Runtime) -> None:
    """Cancel the background tasks and close the clients, each step bounded: a client stuck
    leaving its consumer group must not keep the process (or a test) from shutting down."""
    for task in rt.tasks:
        task.cancel()
    if rt.tasks:
        _done, stuck = await asyncio.wait(rt.tasks, timeout=STOP_TIMEOUT)
        for task in stuck:
            log.warning("task did not stop in time", extra={"task": task.get_name()})
    with contextlib.suppress(Exception):
        await asyncio.wait_for(rt.producer.stop(), STOP_TIMEOUT)
    with contextlib.suppress(Exception):
        await asyncio.wait_for(rt.engine.dispose(), STOP_TIMEOUT)
    with contextlib.suppress(Exception):
        await asyncio.wait_for(rt.reader.close(), STOP_TIMEOUT)


KNOWN_METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})


class RequestContextMiddleware:
    """Request id (X-Request-ID, kept from the caller or made here) as the trace id of
    everything the request does, plus the access log and request counter. Plain ASGI rather
    than `@app.middleware("http")`: that wrapper runs each request in an extra task and
    re-streams the body, which costs a large share of a small request's time.

    The access log follows the settings (`access_log`, `access_log_slow_ms`), read from the
    runtime the lifespan put on the app: every request, or errors and slow ones only."""

    def __init__(self, app: ASGIApp, service: str) -> None:
        self.app = app
        self.service = service
        self.access = logging.getLogger(f"{service}.access")
        # The metric series of each (method, route template, status): `labels()` looks a
        # series up under a lock with its label values checked, three times a request.
        self.series: dict[tuple[str, str, int], tuple[Any, Any, Any]] = {}

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        given, parent_header = "", b""
        for k, v in scope["headers"]:
            if k == b"x-request-id":
                given = v.decode("latin-1")
            elif k == b"traceparent":
                parent_header = v
        parent = parse_traceparent(parent_header) if parent_header else None
        # The trace id: the caller's W3C trace when it sent one, else its request id, else new.
        rid = parent.trace_id if parent else (given or new_trace_id())
        out_headers = [(b"x-request-id", (given or rid).encode("latin-1"))]
        span = new_span_id()
        flags = parent.flags if parent else "01"
        answered = traceparent(rid, span, flags)
        if answered is not None:
            out_headers.append((b"traceparent", answered))
        status = 500
        started = time.perf_counter()

        async def send_with_id(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                headers = [
                    h
                    for h in message.get("headers", [])
                    if h[0].lower() not in (b"x-request-id", b"traceparent")
                ]
                message = {**message, "headers": [*headers, *out_headers]}
            await send(message)

        token = trace_id_var.set(rid)
        span_token = span_id_var.set(span)
        flags_token = flags_var.set(flags)
        counter = [0]
        counting = statements_var.set(counter)
        try:
            await self.app(scope, receive, send_with_id)
        finally:
            trace_id_var.reset(token)
            span_id_var.reset(span_token)
            flags_var.reset(flags_token)
            statements_var.reset(counting)
            method, path = scope["method"], scope["path"]
            elapsed = time.perf_counter() - started
            route = (
                getattr(scope.get("route"), "path", None)
                or scope.get(FORWARDED_ROUTE)
                or "unmatched"
            )
            requests, seconds, statements = self.series_of(method, route, status)
            requests.inc()
            seconds.observe(elapsed)
            statements.observe(counter[0])
            ms = elapsed * 1000
            if path not in ("/healthz", "/metrics") and self.logs(scope, status, ms):
                self.access.info(
                    "request",
                    extra={
                        "method": method,
                        "path": path,
                        "status": status,
                        "ms": round(ms, 2),
                        "statements": counter[0],
                        "trace_id": rid,
                    },
                )

    def series_of(self, method: str, route: str, status: int) -> tuple[Any, Any, Any]:
        key = (method, route, status)
        found = self.series.get(key)
        if found is None:
            found = (
                HTTP_REQUESTS.labels(self.service, method, route, str(status)),
                HTTP_SECONDS.labels(self.service, method, route, str(status)),
                HTTP_DB_STATEMENTS.labels(self.service, method, route),
            )
            # Methods are the client's to choose: remember the usual ones only.
            if method in KNOWN_METHODS:
                self.series[key] = found
        return found

    @staticmethod
    def logs(scope: Scope, status: int, ms: float) -> bool:
        rt = getattr(scope["app"].state, "runtime", None) if "app" in scope else None
        if rt is None:
            return True
        settings = rt.settings
        return bool(
            settings.access_log == "all" or status >= 400 or ms >= settings.access_log_slow_ms
        )


def install_request_context(app: FastAPI, service: str) -> None:
    app.add_middleware(RequestContextMiddleware, service=service)


def install_admission_control(app: FastAPI, service: str) -> None:
    """Added last, so outermost (Starlette wraps the middlewares added before it): a request
    refused for overload reaches none of them. The limit is read from the settings the lifespan
    put on `app.state.runtime`, as they are not known before it runs (an app driven without its
    lifespan, as some tests do, gets the default)."""
    default = int(KitSettings.model_fields["max_inflight_requests"].default)

    def limit() -> int:
        rt = getattr(app.state, "runtime", None)
        return default if rt is None else int(rt.settings.max_inflight_requests)

    app.add_middleware(AdmissionControl, service=service, limit=limit)


def install_probes(
    app: FastAPI,
    ready: Callable[[], Awaitable[dict[str, Any]]],
    *,
    service: str,
    required: Collection[str],
    metrics: bool = True,
) -> None:
    """/healthz, /readyz and (unless the caller serves its own, as the gateway does behind a
    token) /metrics. `ready` returns the checks by name ("ok" or why not); `required` names
    those this process cannot serve a request without: only they make /readyz a 503, the others
    are reported (yanxiu.kit.readiness)."""

    @app.get("/healthz", tags=["ops"], summary="Process is up")
    async def healthz() -> dict[str, str]:
        return {"status": "ok"}

    ready_gauge = READY.labels(service)

    @app.get(
        "/readyz",
        tags=["ops"],
        summary="Able to serve requests",
        description=(
            "200 while this process can serve requests, with `status` `ok` or, when something "
            "it can do without is failing (the broker, the event relay, a service behind the "
            "gateway), `degraded`; 503 (`unavailable`) when it cannot. `checks` names each."
        ),
    )
    async def readyz() -> JSONResponse:
        if getattr(app.state, "runtime", None) is None:
            # Before the lifespan has built the runtime: nothing can be served yet.
            checks: dict[str, Any] = {"runtime": "starting"}
        else:
            checks = await ready()
        status = verdict(checks, required)
        ready_gauge.set(0 if status == UNAVAILABLE else 1)
        return JSONResponse(
            {"status": status, "checks": checks},
            status_code=503 if status == UNAVAILABLE else 200,
        )

    if metrics:
        app.add_api_route("/metrics", metrics_response, include_in_schema=False, tags=["ops"])


async def metrics_response() -> Response:
    return Response(generate_latest(), media_type=CONTENT_TYPE_LATEST)


async def check_database(engine: AsyncEngine) -> str:
    try:
        async with engine.connect() as conn:
            async with asyncio.timeout(2.0):
                await conn.execute(text("SELECT 1"))
        return OK
    except Exception as exc:
        return f"error: {type(exc).__name__}"


# What a service replica cannot serve a request without. The broker and the relay are left out
# on purpose: every replica shares them, and writes go on into the outbox while they are away
# (yanxiu.kit.readiness).
SERVICE_REQUIRES = ("database",)
# A reported check answers within this, or says it timed out: it must not keep /readyz past the
# readiness probe's timeout (4 s in deploy/k8s), which would make the replica unready after all.
REPORTED_CHECK_SECONDS = 2.5


async def check_broker(rt: Runtime) -> str:
    try:
        async with asyncio.timeout(REPORTED_CHECK_SECONDS):
            if rt.producer_ready.is_set() and await broker_reachable(rt.settings):
                return OK
    except TimeoutError:
        pass
    return "unavailable"


async def check_events(rt: Runtime) -> str | None:
    """Whether this service's events are being delivered (kit.relay); None without a relay."""
    if rt.relay is None:
        return None
    try:
        async with asyncio.timeout(REPORTED_CHECK_SECONDS):
            return await rt.relay.readiness()
    except TimeoutError:
        return "error: the outbox did not answer in time"


_settled = False


def settle_heap() -> None:
    """Moves what is alive once a process has started (modules, models, schemas, compiled
    statements: nearly the whole heap, and all of it lives as long as the process) out of the
    collector's sight. Without it every full collection walks it all and stalls the event loop:
    about 150 ms every few seconds on the heartbeat path (bench/learning_heartbeats.py). Once
    per process: a test process starts many apps and must not keep each one's garbage.

    Young collections then run every 20,000 allocations instead of 700: a consumer batch of
    5,000 events allocates hundreds of thousands of short-lived objects, and at the default
    the collector ran so often that validating an event took three times as long
    (bench/credits_ledger.py)."""
    global _settled
    if _settled:
        return
    _settled = True
    gc.collect()
    gc.freeze()
    gc.set_threshold(20_000, 20, 20)


def fastapi_telemetry(environ: Mapping[str, str] = os.environ) -> TelemetryConfig:
    """FastAPI's native telemetry (spans, metrics, logs per request), on only where an exporter
    is configured (`yanxiu.kit.telemetry.OTEL_SWITCHES`). Left on by default it asks
    OpenTelemetry on every request whether a tracer, meter or logger provider has been
    installed (three global look-ups per request: ~2 % of a proxied read at the gateway), and
    none is here unless the environment names an exporter.

    Its own set-up from the environment (FASTAPI_OTEL_AUTO_CONFIGURE) stays off:
    `yanxiu.kit.telemetry.install` puts in the process's one tracer provider, with the service's
    name. FastAPI's would come first, as `unknown_service`, and where ours was in already it
    would add a second exporter to it and send every span twice."""
    on = telemetry.configured(environ)
    return {"tracing": on, "metrics": on, "logs": on, "auto_configure": False}


def create_service_app(spec: ServiceSpec, settings: KitSettings | None = None) -> FastAPI:
    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        s = settings or spec.settings_factory()
        configure_logging(spec.name, level=s.log_level, json=s.log_json)
        # Before the runtime: its relay and consumers take their tracer (or none) when built.
        telemetry.install(f"yanxiu-{spec.name}")
        rt = build_runtime(spec, s)
        app.state.runtime = rt
        await start_runtime(rt)
        settle_heap()
        try:
            yield
        finally:
            await stop_runtime(rt)
            await telemetry.flush()

    remember_parameter_shapes()
    app = FastAPI(
        title=spec.title or f"Yanxiu {spec.name}",
        version="1.0.0",
        lifespan=lifespan,
        telemetry=fastapi_telemetry(),
        generate_unique_id_function=operation_id,
    )
    install_error_handlers(app)
    install_openapi(app)
    if spec.hot_routes:
        app.add_middleware(HotRoutes, routes=spec.hot_routes)
    for middleware in reversed(spec.middleware):
        app.add_middleware(middleware)
    install_request_context(app, spec.name)
    install_admission_control(app, spec.name)

    broker_gauge = BROKER_REACHABLE.labels(spec.name)

    async def ready() -> dict[str, Any]:
        rt: Runtime = app.state.runtime
        database, broker, events = await asyncio.gather(
            check_database(rt.engine), check_broker(rt), check_events(rt)
        )
        broker_gauge.set(1 if broker == OK else 0)
        checks = {"database": database, "broker": broker}
        if events is not None:
            # Reported, not required: the relay failing, a broker loss not yet sent again, or
            # events waiting longer than RELAY_MAX_UNPUBLISHED_AGE_SECONDS.
            checks["events"] = events
        return checks

    install_probes(app, ready, service=spec.name, required=SERVICE_REQUIRES)
    for router in spec.routers:
        mount_routes(app, router)
    audit_log = spec.metadata.tables.get(f"{spec.schema}.audit_log")
    if audit_log is not None:
        mount_routes(app, audit_router(audit_log))
    dispositions = spec.metadata.tables.get(f"{spec.schema}.dlq_dispositions")
    if dispositions is not None:
        mount_routes(app, dlq_router(dispositions, audit_log))
    index_routes(app.router)
    return app


def mount_routes(app: FastAPI, router: APIRouter) -> None:
    """The router's routes, put straight into the app's own list. FastAPI 0.163's
    `include_router` keeps a router as one entry that is matched twice per request (once to
    say it matches, once to pick its route), each time walking its routes and saving and
    restoring scope keys around every candidate: for a request to the fifth router of a
    service, some 35 route checks. Mounted flat, a request walks one list once, as Starlette
    does. A router included in another without options of its own (prefix, tags,
    dependencies…) is mounted the same way; one with options stays included.

    The routes keep everything they were declared with (paths with their router's prefix,
    tags, responses, operation ids); what they do not see is `app.dependency_overrides`,
    which no service or test uses."""
    for route in router.routes:
        inner = getattr(route, "original_router", None)
        if inner is not None:
            if _plain_include(route):
                mount_routes(app, inner)
            else:
                app.router.routes.append(route)
            continue
        app.router.routes.append(route)
    mark = getattr(app.router, "_mark_routes_changed", None)
    if mark is not None:
        mark()


def _plain_include(included: Any) -> bool:
    context = included.include_context
    return bool(
        not context.prefix
        and not context.tags
        and not context.dependencies
        and not context.responses
        and not context.callbacks
        and context.deprecated is None
        and context.include_in_schema
        and isinstance(context.default_response_class, DefaultPlaceholder)
        and isinstance(context.generate_unique_id_function, DefaultPlaceholder)
        and isinstance(context.strict_content_type, DefaultPlaceholder)
    )
