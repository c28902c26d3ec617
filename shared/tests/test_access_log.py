"""A service behind the gateway logs the requests an operator must look at (errors and slow
ones), not every request: the gateway's access log has those, with the same request id."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Callable, Iterator

import httpx
import pytest
from fastapi import APIRouter

from shared.tests.kit_fixtures import metadata
from yanxiu.kit.app import ServiceSpec, create_service_app
from yanxiu.kit.errors import NotFound
from yanxiu.kit.settings import KitSettings
from yanxiu.testing import served

router = APIRouter()


@router.get("/kittest/fine")
async def fine() -> dict[str, str]:
    return {"ok": "yes"}


@router.get("/kittest/missing")
async def missing() -> dict[str, str]:
    raise NotFound("没有", "Nothing here")


class Lines(logging.Handler):
    """The access log's records (the app's lifespan replaces the root's handlers, so the
    capture hangs on the access logger itself)."""

    def __init__(self) -> None:
        super().__init__(logging.INFO)
        self.seen: list[tuple[str, int]] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.seen.append((record.__dict__["path"], record.__dict__["status"]))


@pytest.fixture
def access() -> Iterator[Lines]:
    lines = Lines()
    logger = logging.getLogger("kittest.access")
    logger.addHandler(lines)
    try:
        yield lines
    finally:
        logger.removeHandler(lines)


async def serve(settings: KitSettings) -> AsyncIterator[httpx.AsyncClient]:
    spec = ServiceSpec(
        name="kittest", metadata=metadata, routers=[router], settings_factory=lambda: settings
    )
    async with (
        served(create_service_app(spec, settings)) as url,
        httpx.AsyncClient(base_url=url, headers={"x-request-id": "rid-1"}) as client,
    ):
        yield client


@pytest.fixture
def base(settings_for: Callable[..., KitSettings]) -> KitSettings:
    return settings_for(KitSettings, service_name="kittest", run_relay=False, run_consumers=False)


async def test_a_service_logs_errors_and_slow_requests_not_every_request(
    base: KitSettings, access: Lines
) -> None:
    async for client in serve(base):
        assert (await client.get("/kittest/fine")).status_code == 200
        assert (await client.get("/kittest/missing")).status_code == 404
    assert access.seen == [("/kittest/missing", 404)]


async def test_every_request_is_logged_when_asked_and_slow_ones_always(
    base: KitSettings, access: Lines
) -> None:
    async for client in serve(base.model_copy(update={"access_log": "all"})):
        assert (await client.get("/kittest/fine")).status_code == 200
    assert access.seen == [("/kittest/fine", 200)]
    access.seen.clear()
    async for client in serve(base.model_copy(update={"access_log_slow_ms": 0.0})):
        assert (await client.get("/kittest/fine")).status_code == 200
    assert access.seen == [("/kittest/fine", 200)]
