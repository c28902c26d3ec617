"""The route index (路由索引): a request is matched only against the routes that can match its
path, not against every route of the service in turn.

Starlette (and FastAPI's router on it) finds a request's route by trying each route's pattern in
the order they were declared until one matches fully. A service declares 30 to 60 routes, so a
request to one declared late tries some 30 patterns first, each a regular expression and a few
scope look-ups: profiled on learning, a third of a short request's CPU went to finding its
route (`POST /progress`, 27 patterns tried per request).

The index groups the routes by the first segment of their path (`/teachers/{id}` under
`teachers`). A request is tried, in declaration order, against the routes of its own first
segment and those whose first segment is not a fixed word (a path parameter, a mount, an
included router), which are the only ones that can match it. The first full match is the
route the whole list would have chosen, and it is handled exactly as the router would handle it.
Everything else — no full match (404, 405 for a method the path does not allow, the trailing
slash redirect), lifespan, a request under a root path — goes to the router itself, unchanged.

Built when the first request comes, and again whenever the router's list of routes changes."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from fastapi.routing import APIRouter

# FastAPI's own bookkeeping for its telemetry, done where its router picks a route.
from fastapi.telemetry._api import _route_selected
from starlette.routing import BaseRoute, Match, Mount, Route
from starlette.types import Receive, Scope, Send

ANY = "\0any"  # the bucket of routes whose first segment is not a fixed word


def first_segment(path: str) -> str:
    """`/teachers/{id}` → `teachers`; `/` → ``."""
    end = path.find("/", 1)
    return path[1:] if end < 0 else path[1:end]


def _bucket(route: BaseRoute) -> str:
    if type(route) is not Mount and isinstance(route, Route):
        segment = first_segment(route.path)
        if "{" not in segment:
            return segment
    return ANY


class RouteIndex:
    """In place of the router's own dispatch (`router.middleware_stack`), for a router with no
    middleware of its own."""

    def __init__(self, router: APIRouter) -> None:
        self.router = router
        self.fallback: Callable[[Scope, Receive, Send], Any] = router.app
        self._built_for: tuple[int, int] | None = None
        self._buckets: dict[str, list[BaseRoute]] = {}
        self._any: list[BaseRoute] = []

    def _build(self) -> None:
        routes = self.router.routes
        order = {id(route): i for i, route in enumerate(routes)}
        anywhere = [r for r in routes if _bucket(r) == ANY]
        words: dict[str, list[BaseRoute]] = {}
        for route in routes:
            key = _bucket(route)
            if key != ANY:
                words.setdefault(key, []).append(route)
        # Each bucket keeps the routes that may match its paths in declaration order.
        self._buckets = {
            key: sorted([*found, *anywhere], key=lambda r: order[id(r)])
            for key, found in words.items()
        }
        self._any = anywhere
        self._built_for = (id(routes), len(routes))

    def candidates(self, path: str) -> list[BaseRoute]:
        routes = self.router.routes
        if self._built_for != (id(routes), len(routes)):
            self._build()
        return self._buckets.get(first_segment(path), self._any)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope.get("root_path"):
            await self.fallback(scope, receive, send)
            return
        for route in self.candidates(scope["path"]):
            match, child_scope = route.matches(scope)
            if match == Match.FULL:
                if "router" not in scope:
                    scope["router"] = self.router
                scope.update(child_scope)
                _route_selected(
                    scope=scope,
                    path=getattr(route, "path_format", None),
                    mount=isinstance(route, Mount),
                )
                await route.handle(scope, receive, send)
                return
        await self.fallback(scope, receive, send)


def index_routes(router: APIRouter) -> bool:
    """Puts the index in front of the router; False (and nothing changed) when the router has
    middleware of its own, which the index would skip."""
    stack = router.middleware_stack
    if isinstance(stack, RouteIndex):
        return True
    if stack != router.app:
        return False
    router.middleware_stack = RouteIndex(router)
    return True
