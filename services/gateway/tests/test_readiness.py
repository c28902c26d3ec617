"""/healthz and /readyz of the gateway: ready while it can serve (started with its keys, the
ended sessions read); its database and each service's readiness are reported, never a 503."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from gateway.config import SERVICES, GatewaySettings
from gateway.main import create_app
from yanxiu.kit.db import make_engine
from yanxiu.testing import app_client

ALL = SERVICES


async def test_healthz_answers_while_services_are_down(gateway: Any) -> None:
    async with gateway() as client:
        answer = await client.get("/healthz")
    assert answer.status_code == 200 and answer.json() == {"status": "ok"}


async def test_readyz_is_ok_when_sessions_database_and_every_service_are_ok(
    gateway: Any, upstream_url: str
) -> None:
    async with gateway(**{f"{s}_url": upstream_url for s in ALL}) as client:
        answer = await client.get("/readyz")
    assert answer.status_code == 200
    assert answer.json() == {
        "status": "ok",
        "checks": {
            "sessions": "ok",
            "database": "ok",
            "enrollment": "ok",
            "learning": "ok",
            "credits": "ok",
            "lessons": "ok",
            "insights": "ok",
        },
    }


async def test_services_down_unready_or_degraded_are_reported_and_the_gateway_stays_ready(
    gateway: Any, upstream_url: str, degraded_url: str, not_ready_url: str
) -> None:
    """In a Kafka outage every service is degraded or worse: the Ingress must keep its
    backends, which answer each request for a service that cannot serve with a 503."""
    async with gateway(
        enrollment_url=upstream_url, learning_url=degraded_url, credits_url=not_ready_url
    ) as client:
        answer = await client.get("/readyz")
        down = await client.get("/api/v1/lessons/lessons")
    assert answer.status_code == 200
    assert answer.json()["status"] == "degraded"
    checks = answer.json()["checks"]
    assert checks["sessions"] == checks["database"] == checks["enrollment"] == "ok"
    assert checks["learning"] == "degraded: broker, events"
    assert checks["credits"] == "unavailable: HTTP 503"
    assert checks["lessons"].startswith("error: ")  # nothing listening
    assert down.status_code == 503
    assert down.headers["content-type"] == "application/problem+json"
    assert down.json()["code"] == "service_unavailable" and down.json()["service"] == "lessons"


async def test_a_gateway_that_has_not_read_the_ended_sessions_is_not_ready(
    gateway: Any, upstream_url: str
) -> None:
    """Started with its database away: it would let through the tokens of sessions ended
    lately, so it takes no traffic until it has read them."""
    urls = {f"{s}_url": upstream_url for s in ALL}
    async with gateway(database_url="postgresql://postgres@127.0.0.1:1/none", **urls) as client:
        answer = await client.get("/readyz")
    assert answer.status_code == 503
    assert answer.json()["status"] == "unavailable"
    assert answer.json()["checks"]["sessions"] != "ok"
    assert answer.json()["checks"]["database"].startswith("error")


async def test_a_database_outage_after_start_leaves_the_gateway_ready_and_is_reported(
    make_settings: Callable[..., GatewaySettings], upstream_url: str
) -> None:
    """Its ended sessions read, the gateway forwards requests without its database (the last
    copy stays in force: gateway.sessions.view); sign-in waits for the database."""
    app = create_app(make_settings(**{f"{s}_url": upstream_url for s in ALL}))
    async with app_client(app) as client:
        rt = app.state.runtime
        own, rt.engine = rt.engine, make_engine("postgresql://postgres@127.0.0.1:1/none")
        try:
            answer = await client.get("/readyz")
            forwarded = await client.get("/api/v1/enrollment/echo/x")
        finally:
            await rt.engine.dispose()
            rt.engine = own
    assert answer.status_code == 200
    assert answer.json()["status"] == "degraded"
    assert answer.json()["checks"]["sessions"] == "ok"
    assert answer.json()["checks"]["database"].startswith("error")
    assert forwarded.status_code == 200
