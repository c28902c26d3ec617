"""/healthz and /readyz: the gateway's database and each service's own readiness."""

from __future__ import annotations

from typing import Any


async def test_healthz_answers_while_services_are_down(gateway: Any) -> None:
    async with gateway() as client:
        answer = await client.get("/healthz")
    assert answer.status_code == 200 and answer.json() == {"status": "ok"}


async def test_readyz_is_200_when_database_and_every_service_are_ready(
    gateway: Any, upstream_url: str
) -> None:
    urls = {f"{s}_url": upstream_url for s in ("enrollment", "learning", "credits", "lessons")}
    async with gateway(**urls) as client:
        answer = await client.get("/readyz")
    assert answer.status_code == 200
    assert answer.json() == {
        "status": "ok",
        "checks": {
            "database": "ok",
            "enrollment": "ok",
            "learning": "ok",
            "credits": "ok",
            "lessons": "ok",
        },
    }


async def test_readyz_reports_each_service_and_is_503_when_one_is_not_ready(
    gateway: Any, upstream_url: str, not_ready_url: str
) -> None:
    async with gateway(
        enrollment_url=upstream_url, learning_url=upstream_url, credits_url=not_ready_url
    ) as client:
        answer = await client.get("/readyz")
    assert answer.status_code == 503
    checks = answer.json()["checks"]
    assert checks["database"] == "ok"
    assert checks["enrollment"] == checks["learning"] == "ok"
    assert checks["credits"] == "unavailable: HTTP 503"
    assert checks["lessons"].startswith("error: ")  # nothing listening


async def test_readyz_reports_an_unreachable_database(gateway: Any, upstream_url: str) -> None:
    urls = {f"{s}_url": upstream_url for s in ("enrollment", "learning", "credits", "lessons")}
    async with gateway(database_url="postgresql://postgres@127.0.0.1:1/none", **urls) as client:
        answer = await client.get("/readyz")
    assert answer.status_code == 503
    assert answer.json()["checks"]["database"].startswith("error")
