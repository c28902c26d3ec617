"""运维概况 (`GET /api/v1/ops/status`): each service's readiness, consumer lag, outbox age and
dead letters, read from its own /readyz and /metrics; for province admins only."""

from __future__ import annotations

import contextlib
from collections.abc import Callable
from typing import Any

from prometheus_client import CollectorRegistry, Gauge, generate_latest

from gateway.config import SERVICES
from gateway.ops_status import read_gauges
from learning.config import Settings as LearningSettings
from learning.main import create_app as learning_app
from services.gateway.tests.conftest import PASSWORD, GatewayFactory
from yanxiu.testing import eventually, served

URL = "/api/v1/ops/status"
LIXIA = ("370000", "370100", "370102")


async def sign_in(client: Any, add_account: Callable[..., Any], role: str, org: tuple) -> dict:
    account = await add_account(role=role, org_path=org)
    r = await client.post(
        "/api/v1/auth/token", json={"username": account.username, "password": PASSWORD}
    )
    assert r.status_code == 200, r.text
    return {"Authorization": f"Bearer {r.json()['access_token']}"}


def test_gauges_are_read_for_the_named_service_only() -> None:
    registry = CollectorRegistry()
    lag = Gauge(
        "yanxiu_consumer_lag_messages", "", ["consumer", "topic", "partition"], registry=registry
    )
    age = Gauge("yanxiu_outbox_oldest_unpublished_seconds", "", ["schema"], registry=registry)
    dlq = Gauge("yanxiu_dlq_messages", "", ["service"], registry=registry)
    lag.labels("t1.learning.enrollment", "t1.enrollment.v1", "0").set(3)
    lag.labels("t1.learning.lessons", "t1.lessons.v1", "1").set(4)
    lag.labels("t1.lessons.enrollment", "t1.enrollment.v1", "0").set(100)
    age.labels("learning").set(12.5)
    age.labels("credits").set(99)
    dlq.labels("learning").set(2)
    dlq.labels("lessons").set(7)
    text = generate_latest(registry).decode()

    learning = read_gauges("learning", text)
    assert (learning.consumer_lag, learning.outbox_age_seconds, learning.dlq_depth) == (7, 12.5, 2)
    # A service that exports none of them has no numbers (not zeros).
    enrollment = read_gauges("enrollment", text)
    assert enrollment.consumer_lag is None and enrollment.dlq_depth is None
    assert enrollment.outbox_age_seconds is None


async def test_province_admin_sees_every_service_with_its_numbers(
    gateway: GatewayFactory,
    add_account: Callable[..., Any],
    serve_enrollment: Callable[..., Any],
    settings_for: Callable[..., Any],
    degraded_url: str,
) -> None:
    learning_settings = settings_for(LearningSettings, dlq_depth_interval_seconds=0.2)
    async with contextlib.AsyncExitStack() as stack:
        enrollment = await stack.enter_async_context(
            serve_enrollment(run_relay=True, dlq_depth_interval_seconds=0.2)
        )
        learning = await stack.enter_async_context(served(learning_app(learning_settings)))
        client = await stack.enter_async_context(
            gateway(enrollment_url=enrollment, learning_url=learning, credits_url=degraded_url)
        )
        province = await sign_in(client, add_account, "province_admin", ("370000",))

        async def numbers() -> dict[str, Any] | None:
            answer = await client.get(URL, headers=province)
            assert answer.status_code == 200, answer.text
            found = {s["name"]: s for s in answer.json()["services"]}
            e, le = found["enrollment"], found["learning"]
            has_all = (
                e["outbox_age_seconds"] is not None
                and e["dlq_depth"] is not None
                and le["consumer_lag"] is not None
                and le["dlq_depth"] is not None
            )
            return found if has_all else None

        found = await eventually(numbers, timeout=30, interval=0.3)
    assert set(found) == set(SERVICES)  # whatever the gateway routes to
    enrollment_status = found["enrollment"]
    assert enrollment_status["ready"] is True
    assert enrollment_status["status"] in ("ok", "degraded")
    assert enrollment_status["outbox_age_seconds"] >= 0
    assert enrollment_status["dlq_depth"] == 0
    assert enrollment_status["dlq_url"] == "/api/v1/enrollment/dlq"
    assert enrollment_status["replay_url"] == "/api/v1/enrollment/dlq/replay"
    assert found["learning"]["consumer_lag"] >= 0
    assert found["credits"]["status"] == "degraded" and found["credits"]["ready"] is True
    # Nothing listens at lessons' URL: down, with no numbers.
    assert found["lessons"] == {
        "name": "lessons",
        "ready": False,
        "status": "down",
        "consumer_lag": None,
        "outbox_age_seconds": None,
        "dlq_depth": None,
        "dlq_url": "/api/v1/lessons/dlq",
        "replay_url": "/api/v1/lessons/dlq/replay",
    }


async def test_ops_status_is_for_province_admins_only(
    gateway: GatewayFactory, add_account: Callable[..., Any]
) -> None:
    async with gateway() as client:
        county = await sign_in(client, add_account, "county_admin", LIXIA)
        refused = await client.get(URL, headers=county)
        anonymous = await client.get(URL)
    assert refused.status_code == 403
    assert refused.headers["content-type"] == "application/problem+json"
    assert refused.json()["code"] == "forbidden" and refused.json()["status"] == 403
    assert anonymous.status_code == 401
