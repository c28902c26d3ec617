"""/readyz of a service (yanxiu.kit.readiness): 503 only when this replica cannot serve requests;
the broker and the events are reported, as `degraded` with a 200, and in their own gauge."""

from __future__ import annotations

from collections.abc import Callable

import httpx
from fastapi import APIRouter
from prometheus_client import REGISTRY
from sqlalchemy import text

from shared.tests.kit_fixtures import kittest_client, metadata
from yanxiu.kit.app import ServiceSpec, create_service_app
from yanxiu.kit.deps import Session
from yanxiu.kit.readiness import DEGRADED, OK, UNAVAILABLE, fully_ready, verdict
from yanxiu.kit.settings import KitSettings
from yanxiu.testing import eventually, free_port

router = APIRouter()


@router.get("/kittest/answer")
async def answer(session: Session) -> dict[str, int]:
    return {"answer": int(await session.scalar(text("SELECT 42")) or 0)}


def gauge(name: str) -> float | None:
    return REGISTRY.get_sample_value(name, {"service": "kittest"})


def test_only_a_required_check_makes_a_process_unready() -> None:
    required = ("database",)
    assert verdict({"database": OK, "broker": OK, "events": OK}, required) == OK
    assert verdict({"database": OK, "broker": "unavailable"}, required) == DEGRADED
    assert verdict({"database": OK, "events": "error: relay failing"}, required) == DEGRADED
    assert verdict({"database": "error: OSError", "broker": OK}, required) == UNAVAILABLE
    # A required check that is not there at all fails (a process still starting).
    assert verdict({"runtime": "starting"}, required) == UNAVAILABLE


async def test_a_service_whose_broker_is_away_serves_and_says_so_with_a_200(
    settings_for: Callable[..., KitSettings],
) -> None:
    nothing_there = f"127.0.0.1:{free_port()}"
    async with kittest_client(settings_for, router, kafka_bootstrap_servers=nothing_there) as http:
        ready = await http.get("/readyz")
        served = await http.get("/kittest/answer")
    assert ready.status_code == 200, ready.text
    assert ready.json() == {
        "status": DEGRADED,
        "checks": {"database": OK, "broker": "unavailable"},
    }
    assert not fully_ready(ready.json())
    assert served.status_code == 200 and served.json() == {"answer": 42}
    # Still alertable: the broker has a gauge of its own, readiness stays 1.
    assert gauge("yanxiu_ready") == 1.0
    assert gauge("yanxiu_broker_reachable") == 0.0


async def test_a_service_with_its_broker_is_fully_ready(
    settings_for: Callable[..., KitSettings],
) -> None:
    async with kittest_client(settings_for, router) as http:

        async def all_ok() -> bool:
            return fully_ready((await http.get("/readyz")).json())

        # The producer starts in the background: fully ready once it has.
        await eventually(all_ok, timeout=30)
    assert gauge("yanxiu_ready") == 1.0
    assert gauge("yanxiu_broker_reachable") == 1.0


async def test_readyz_before_the_runtime_is_built_is_a_503_starting(
    settings_for: Callable[..., KitSettings],
) -> None:
    settings = settings_for(KitSettings, service_name="kittest")
    app = create_service_app(
        ServiceSpec(
            name="kittest", metadata=metadata, routers=[], settings_factory=lambda: settings
        ),
        settings,
    )
    transport = httpx.ASGITransport(app=app)  # no lifespan: nothing built yet
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
        ready = await client.get("/readyz")
    assert ready.status_code == 503
    assert ready.json() == {"status": UNAVAILABLE, "checks": {"runtime": "starting"}}
