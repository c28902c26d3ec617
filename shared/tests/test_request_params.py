"""Request parameters are worked out once per route, not once per request (issue #15), and the
routes read them exactly as FastAPI does without the memo: aliases, lists, defaults, bounds and
their errors."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Annotated, Any

import httpx
import pytest
from fastapi import APIRouter, FastAPI, Header, Query
from fastapi.dependencies import utils as fastapi_utils
from fastapi.routing import APIRoute

from yanxiu.kit.errors import install_error_handlers
from yanxiu.kit.request_params import (
    ANNOTATION_LOOKUPS,
    FIELD_LOOKUPS,
    remember_parameter_shapes,
)


def _routes(routes: list[Any]) -> Iterator[APIRoute]:
    for route in routes:
        if isinstance(route, APIRoute):
            yield route
        inner = getattr(getattr(route, "original_router", None), "routes", None)
        if inner:
            yield from _routes(inner)


def _service_apps() -> list[FastAPI]:
    from credits.main import create_app as credits_app
    from enrollment.main import create_app as enrollment_app
    from learning.main import create_app as learning_app
    from lessons.main import create_app as lessons_app

    return [enrollment_app(), learning_app(), credits_app(), lessons_app()]


def test_every_lookup_of_this_fastapi_is_remembered() -> None:
    # A FastAPI upgrade that renames one of them would leave it unremembered (slower, not
    # wrong): this is where that shows.
    assert remember_parameter_shapes() == [*FIELD_LOOKUPS, *ANNOTATION_LOOKUPS]
    assert remember_parameter_shapes() == [*FIELD_LOOKUPS, *ANNOTATION_LOOKUPS]
    for name in (*FIELD_LOOKUPS, *ANNOTATION_LOOKUPS):
        assert getattr(fastapi_utils, name).__yanxiu_memo__ is True
        # Installed once: a second call does not wrap the memo in another memo.
        assert not hasattr(getattr(fastapi_utils, name).__wrapped__, "__yanxiu_memo__")


def test_remembered_shapes_equal_fastapis_own_for_every_parameter_of_every_service() -> None:
    remember_parameter_shapes()
    checked = 0
    for app in _service_apps():
        for route in _routes(app.routes):
            dependants = [route.dependant]
            while dependants:
                dependant = dependants.pop()
                dependants.extend(dependant.dependencies)
                fields = [
                    *dependant.path_params,
                    *dependant.query_params,
                    *dependant.header_params,
                    *dependant.cookie_params,
                ]
                for field in fields:
                    for name in FIELD_LOOKUPS:
                        memo = getattr(fastapi_utils, name)
                        for _ in range(2):  # worked out, then remembered
                            assert memo(field) == memo.__wrapped__(field), (route.path, name)
                    sequence: Any = fastapi_utils.field_annotation_is_sequence
                    annotation = field.field_info.annotation
                    assert sequence(annotation) == sequence.__wrapped__(annotation)
                    checked += 1
    # The four services declare hundreds of parameters; a walk that found none checks nothing.
    assert checked > 200


def _app() -> FastAPI:
    remember_parameter_shapes()
    app = FastAPI()
    install_error_handlers(app)
    router = APIRouter()

    @router.get("/items/{item_id}")
    async def item(
        item_id: int,
        tag: Annotated[list[str] | None, Query()] = None,
        page_size: Annotated[int, Query(alias="pageSize", ge=1, le=50)] = 20,
        rural: bool | None = None,
        x_trace: Annotated[str | None, Header()] = None,
    ) -> dict[str, Any]:
        return {"id": item_id, "tag": tag, "size": page_size, "rural": rural, "trace": x_trace}

    @router.get("/needs")
    async def needs(year: Annotated[int, Query(ge=2000)]) -> dict[str, int]:
        return {"year": year}

    app.include_router(router, prefix="/v1")
    return app


@pytest.fixture
async def client() -> httpx.AsyncClient:
    transport = httpx.ASGITransport(app=_app())
    return httpx.AsyncClient(transport=transport, base_url="http://t")


@pytest.mark.parametrize("attempt", [1, 2, 3])
async def test_parameters_read_the_same_on_every_request(
    client: httpx.AsyncClient, attempt: int
) -> None:
    r = await client.get(
        "/v1/items/7?tag=a&tag=b&pageSize=5&rural=true", headers={"x-trace": f"t{attempt}"}
    )
    expected = {"id": 7, "tag": ["a", "b"], "size": 5, "rural": True, "trace": f"t{attempt}"}
    assert r.json() == expected
    r = await client.get("/v1/items/8")
    assert r.json() == {"id": 8, "tag": None, "size": 20, "rural": None, "trace": None}


async def test_bad_parameters_are_still_refused_as_problems(client: httpx.AsyncClient) -> None:
    for url in ("/v1/items/x", "/v1/items/1?pageSize=0", "/v1/items/1?rural=maybe", "/v1/needs"):
        for _ in range(2):
            r = await client.get(url)
            assert r.status_code == 422, url
            assert r.headers["content-type"].startswith("application/problem+json")
    r = await client.get("/v1/needs?year=1999")
    assert r.status_code == 422
    assert (await client.get("/v1/needs?year=2026")).json() == {"year": 2026}
