"""A service's routes are mounted flat in its app (issue #15: a request walks one list once
instead of matching each included router twice), and the app says and does what it did with
routers included: the same operations in OpenAPI, the same 404 and 405 problems."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from fastapi import APIRouter, FastAPI
from fastapi.responses import PlainTextResponse
from fastapi.routing import APIRoute

from shared.tests.kit_fixtures import assert_problems
from yanxiu.kit.app import ServiceSpec, mount_routes
from yanxiu.kit.errors import install_error_handlers


def _specs() -> list[ServiceSpec]:
    from credits.main import SPEC as credits
    from enrollment.main import SPEC as enrollment
    from learning.main import SPEC as learning
    from lessons.main import SPEC as lessons

    return [enrollment, learning, credits, lessons]


def _operations(app: FastAPI) -> dict[tuple[str, str], dict[str, Any]]:
    paths = app.openapi()["paths"]
    return {
        (path, method): {k: op.get(k) for k in ("operationId", "tags", "summary", "responses")}
        for path, item in paths.items()
        for method, op in item.items()
    }


@pytest.mark.parametrize("spec", _specs(), ids=lambda s: s.name)
def test_mounted_routes_describe_the_same_operations_as_included_routers(
    spec: ServiceSpec,
) -> None:
    included, mounted = FastAPI(), FastAPI()
    for router in spec.routers:
        included.include_router(router)
        mount_routes(mounted, router)
    assert _operations(mounted) == _operations(included)
    assert len(_operations(mounted)) > 10


@pytest.mark.parametrize("spec", _specs(), ids=lambda s: s.name)
def test_a_services_routes_sit_in_one_list(spec: ServiceSpec) -> None:
    app = FastAPI()
    for router in spec.routers:
        mount_routes(app, router)
    declared = [r for router in spec.routers for r in router.routes if isinstance(r, APIRoute)]
    flat = [r for r in app.routes if isinstance(r, APIRoute)]
    # Every route a service's routers declare directly is in the app's own list, in order.
    assert [r for r in flat if r in declared] == declared
    # Only an include with options of its own (learning's xAPI routers, tagged by the
    # providers' router) stays a router.
    kept: list[Any] = [r for r in app.routes if hasattr(r, "original_router")]
    assert all(r.include_context.tags for r in kept)
    # statements, documents, account links, about
    assert len(kept) == (4 if spec.name == "learning" else 0)


def _app() -> FastAPI:
    app = FastAPI()
    install_error_handlers(app)
    outer, inner, tagged, texts = APIRouter(), APIRouter(prefix="/inner"), APIRouter(), APIRouter()

    @outer.get("/things/{thing_id}")
    async def thing(thing_id: int) -> dict[str, int]:
        return {"id": thing_id}

    @inner.post("/made")
    async def made() -> dict[str, str]:
        return {"made": "yes"}

    @tagged.get("/tagged")
    async def tag() -> dict[str, str]:
        return {"tagged": "yes"}

    @texts.get("/text", response_model=None)
    async def text() -> str:
        return "plain"

    outer.include_router(inner)
    outer.include_router(tagged, tags=["special"])
    outer.include_router(texts, default_response_class=PlainTextResponse)
    mount_routes(app, outer)
    return app


def test_an_include_with_options_of_its_own_stays_included() -> None:
    kept = [r for r in _app().routes if hasattr(r, "original_router")]
    assert len(kept) == 2  # tagged, and the one answering in plain text


async def test_mounted_routes_answer_and_refuse_as_before() -> None:
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=_app()), base_url="http://t"
    ) as client:
        assert (await client.get("/things/3")).json() == {"id": 3}
        assert (await client.post("/inner/made")).json() == {"made": "yes"}
        assert (await client.get("/tagged")).json() == {"tagged": "yes"}
        assert (await client.get("/text")).text == "plain"
        await assert_problems(
            client,
            [
                ("GET", "/nowhere", 404),
                ("DELETE", "/things/3", 405),
                ("GET", "/inner/made", 405),
                ("GET", "/things/x", 422),
            ],
        )
