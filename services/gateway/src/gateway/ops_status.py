"""运维概况 (ops status) for the province admins' dashboard: each service's readiness, consumer
lag, outbox age and dead letters, read from its own /readyz and /metrics on its internal URL."""

from __future__ import annotations

import asyncio
from typing import Any, Literal

import httpx
from fastapi import APIRouter
from prometheus_client.parser import text_string_to_metric_families
from pydantic import BaseModel

from gateway.runtime import Runtime
from yanxiu.kit.auth import Role
from yanxiu.kit.deps import CurrentUser
from yanxiu.kit.errors import PROBLEM_JSON
from yanxiu.kit.readiness import OK

# The gauges of yanxiu.kit.metrics this reads.
CONSUMER_LAG = "yanxiu_consumer_lag_messages"
OUTBOX_AGE = "yanxiu_outbox_oldest_unpublished_seconds"
DLQ_DEPTH = "yanxiu_dlq_messages"

Status = Literal["ok", "degraded", "down"]


class ServiceStatus(BaseModel):
    name: str
    ready: bool
    status: Status
    consumer_lag: int | None
    outbox_age_seconds: float | None
    dlq_depth: int | None
    # The service's dead letters (yanxiu.kit.dlq_api): listed at dlq_url, replayed by a POST
    # to replay_url.
    dlq_url: str
    replay_url: str


class OpsStatus(BaseModel):
    services: list[ServiceStatus]


class Gauges(BaseModel):
    consumer_lag: int | None = None
    outbox_age_seconds: float | None = None
    dlq_depth: int | None = None


def _owned_by(service: str, consumer_group: str) -> bool:
    """Consumer groups are named `<service>.<what>` (after any topic prefix of the deployment's)."""
    return f".{service}." in f".{consumer_group}"


def read_gauges(service: str, text: str) -> Gauges:
    """The three gauges from a Prometheus text exposition: lag summed over the service's
    partitions, the oldest unpublished outbox row of its schema, its dead-letter count. Series
    of other services are left out: processes that serve several (the tests') export them all."""
    lag: list[float] = []
    ages: list[float] = []
    dead: list[float] = []
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            labels = sample.labels
            if sample.name == CONSUMER_LAG and _owned_by(service, labels.get("consumer", "")):
                lag.append(sample.value)
            elif sample.name == OUTBOX_AGE and labels.get("schema") == service:
                ages.append(sample.value)
            elif sample.name == DLQ_DEPTH and labels.get("service") == service:
                dead.append(sample.value)
    return Gauges(
        consumer_lag=int(sum(lag)) if lag else None,
        outbox_age_seconds=max(ages) if ages else None,
        dlq_depth=int(sum(dead)) if dead else None,
    )


async def _readiness(client: httpx.AsyncClient, url: str, timeout: float) -> Status:
    try:
        answer = await client.get(f"{url}/readyz", timeout=timeout)
    except httpx.HTTPError:
        return "down"
    if answer.status_code != 200:
        return "down"
    try:
        body = answer.json()
    except ValueError:
        return "ok"
    state = body.get("status", OK) if isinstance(body, dict) else OK
    return "ok" if state == OK else "degraded"


async def _gauges(client: httpx.AsyncClient, name: str, url: str, timeout: float) -> Gauges:
    try:
        answer = await client.get(f"{url}/metrics", timeout=timeout)
        if answer.status_code != 200:
            return Gauges()
        return read_gauges(name, answer.text)
    except (httpx.HTTPError, ValueError):
        return Gauges()


async def service_status(
    client: httpx.AsyncClient, name: str, url: str, *, timeout: float
) -> ServiceStatus:
    status, gauges = await asyncio.gather(
        _readiness(client, url, timeout), _gauges(client, name, url, timeout)
    )
    return ServiceStatus(
        name=name,
        ready=status != "down",
        status=status,
        **gauges.model_dump(),
        dlq_url=f"/api/v1/{name}/dlq",
        replay_url=f"/api/v1/{name}/dlq/replay",
    )


ops_status = APIRouter(prefix="/api/v1/ops", tags=["ops"], include_in_schema=False)

_PROBLEMS: dict[int | str, dict[str, Any]] = {
    403: {"description": "仅省级管理员 (Province admins only)", "content": {PROBLEM_JSON: {}}}
}


@ops_status.get("/status", response_model=OpsStatus, responses=_PROBLEMS)
async def get_ops_status(user: CurrentUser, rt: Runtime) -> OpsStatus:
    """Every service the gateway routes to, asked at once; one that does not answer within the
    probe timeout is "down" with no numbers, and holds up none of the others."""
    user.ensure_role(Role.province_admin)
    timeout = rt.settings.probe_timeout_seconds
    found = await asyncio.gather(
        *(service_status(rt.http, n, u, timeout=timeout) for n, u in rt.upstreams.items())
    )
    return OpsStatus(services=list(found))
