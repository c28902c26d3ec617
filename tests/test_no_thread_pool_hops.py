"""No route of any app waits on the thread pool: FastAPI runs a plain `def` endpoint or
dependency there, a thread hop per request (the dashboards' `reading` dependency was one,
costing every dashboard route under load). Built in-process from every app, like the OpenAPI
contract."""

from __future__ import annotations

import importlib
import inspect
from collections.abc import Iterator
from typing import Any

from fastapi.dependencies.models import Dependant
from fastapi.routing import APIRoute

from gateway.openapi import SERVICES


def apps() -> Iterator[tuple[str, Any]]:
    from gateway.main import create_app

    yield "gateway", create_app()
    for name in SERVICES:
        yield name, importlib.import_module(f"{name}.main").create_app()


def calls(dependant: Dependant) -> Iterator[Any]:
    if dependant.call is not None:
        yield dependant.call
    for sub in dependant.dependencies:
        yield from calls(sub)


def runs_on_the_loop(call: Any) -> bool:
    target = call if inspect.isroutine(call) else getattr(call, "__call__", call)  # noqa: B004
    return inspect.iscoroutinefunction(target) or inspect.isasyncgenfunction(target)


def test_every_endpoint_and_dependency_runs_on_the_event_loop() -> None:
    found = []
    for name, app in apps():
        for route in app.routes:
            if not isinstance(route, APIRoute):
                continue
            for call in calls(route.dependant):
                if not runs_on_the_loop(call):
                    label = getattr(call, "__qualname__", repr(call))
                    found.append(f"{name} {sorted(route.methods)} {route.path}: {label}")
    assert found == [], "plain `def` endpoints or dependencies (thread pool):\n" + "\n".join(
        sorted(set(found))
    )
