"""A request is matched only against the routes that can match its path (issue #15), and the
route it gets is the one the whole list would have given it: for every route of every service,
and for the awkward orders (a parameter where a word could be, a word declared after a
parameter, a method the path does not allow, a path no route has)."""

from __future__ import annotations

import re
import uuid
from typing import Any

import httpx
import pytest
from fastapi import APIRouter, FastAPI
from fastapi.routing import APIRoute
from starlette.routing import BaseRoute, Match

from shared.tests.kit_fixtures import assert_problems
from yanxiu.kit.app import mount_routes
from yanxiu.kit.errors import install_error_handlers
from yanxiu.kit.route_index import RouteIndex, first_segment, index_routes


def _apps() -> list[tuple[str, FastAPI]]:
    from credits.main import create_app as credits_app
    from enrollment.main import create_app as enrollment_app
    from gateway.main import create_app as gateway_app
    from learning.main import create_app as learning_app
    from lessons.main import create_app as lessons_app

    return [
        ("enrollment", enrollment_app()),
        ("learning", learning_app()),
        ("credits", credits_app()),
        ("lessons", lessons_app()),
        ("gateway", gateway_app()),
    ]


def _scope(method: str, path: str) -> dict[str, Any]:
    return {"type": "http", "method": method, "path": path, "root_path": "", "headers": []}


def _whole_list(routes: list[BaseRoute], scope: dict[str, Any]) -> BaseRoute | None:
    for route in routes:
        if route.matches(scope)[0] == Match.FULL:
            return route
    return None


def _indexed(index: RouteIndex, scope: dict[str, Any]) -> BaseRoute | None:
    for route in index.candidates(scope["path"]):
        if route.matches(scope)[0] == Match.FULL:
            return route
    return None


def _example(path: str) -> str:
    """A concrete path for a route template: each parameter a value of its kind."""

    def value(m: re.Match[str]) -> str:
        name, _, kind = m.group(1).partition(":")
        return "a/b" if kind == "path" else str(uuid.uuid4()) if "id" in name else "2026"

    return re.sub(r"\{([^}]+)\}", value, path)


@pytest.mark.parametrize(("name", "app"), _apps(), ids=[n for n, _ in _apps()])
def test_every_route_is_found_as_the_whole_list_finds_it(name: str, app: FastAPI) -> None:
    assert isinstance(app.router.middleware_stack, RouteIndex), name
    index = app.router.middleware_stack
    checked = 0
    for route in app.routes:
        if not isinstance(route, APIRoute):
            continue
        for method in sorted(route.methods or ()):
            for path in (_example(route.path), route.path + "/x", "/nowhere" + route.path):
                scope = _scope(method, path)
                assert _indexed(index, scope) is _whole_list(app.routes, scope), (method, path)
                checked += 1
    assert checked > 30


def test_first_segment() -> None:
    assert first_segment("/teachers/{teacher_id}") == "teachers"
    assert first_segment("/teachers") == "teachers"
    assert first_segment("/") == ""
    assert first_segment("/api/v1/auth/token") == "api"


def _app() -> FastAPI:
    app = FastAPI()
    install_error_handlers(app)
    router = APIRouter()

    @router.get("/things/special")
    async def special() -> dict[str, str]:
        return {"which": "special"}

    @router.get("/things/{thing_id}")
    async def thing(thing_id: str) -> dict[str, str]:
        return {"which": f"thing {thing_id}"}

    @router.get("/{section}/overview")
    async def overview(section: str) -> dict[str, str]:
        return {"which": f"overview of {section}"}

    @router.get("/reports/overview")
    async def shadowed() -> dict[str, str]:  # declared after the parameter: never reached
        return {"which": "reports"}

    @router.post("/made")
    async def made() -> dict[str, str]:
        return {"which": "made"}

    mount_routes(app, router)
    assert index_routes(app.router)
    return app


async def test_routes_answer_and_refuse_as_the_router_does() -> None:
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=_app()), base_url="http://t"
    ) as client:
        for path, which in (
            ("/things/special", "special"),
            ("/things/7", "thing 7"),
            ("/reports/overview", "overview of reports"),
            ("/things/overview", "thing overview"),
        ):
            assert (await client.get(path)).json() == {"which": which}, path
        assert (await client.post("/made")).json() == {"which": "made"}
        await assert_problems(
            client,
            [
                ("GET", "/nowhere", 404),
                ("GET", "/made", 405),
                ("DELETE", "/things/7", 405),
            ],
        )


def test_routes_added_after_the_first_request_are_found() -> None:
    app = _app()
    index = app.router.middleware_stack
    assert isinstance(index, RouteIndex)
    assert _indexed(index, _scope("GET", "/late")) is None

    @app.get("/late")
    async def late() -> dict[str, str]:
        return {}

    found = _indexed(index, _scope("GET", "/late"))
    assert isinstance(found, APIRoute) and found.path == "/late"
