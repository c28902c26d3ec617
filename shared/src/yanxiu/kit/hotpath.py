"""Hot routes (热点路由): the one or two routes that carry nearly all of a service's traffic
(learning's single heartbeat) are dispatched straight to their endpoint by method and exact
path, ahead of Starlette's router, which tries every route's pattern in turn, and of FastAPI's
dependency machinery; together those cost more than the heartbeat itself.

The route stays declared on its router, so it is documented in OpenAPI and served the same way
by either path. The endpoint takes the Request and returns a Response, and its errors go to the
app's own exception handlers (problem+json); anything without a handler propagates to the
server-error middleware outside, as from any route."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass

from starlette.requests import Request
from starlette.responses import Response
from starlette.types import ASGIApp, Receive, Scope, Send

Endpoint = Callable[[Request], Awaitable[Response]]
Handler = Callable[[Request, Exception], Awaitable[Response]]


@dataclass(frozen=True)
class HotRoute:
    """What `scope["route"]` holds for a hot route (its template is its exact path), as
    Starlette's router leaves the matched route there for the metrics."""

    path: str


class HotRoutes:
    def __init__(self, app: ASGIApp, routes: Mapping[tuple[str, str], Endpoint]) -> None:
        self.app = app
        self.routes = dict(routes)
        self.marks = {key: HotRoute(key[1]) for key in self.routes}

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        endpoint = (
            self.routes.get((scope["method"], scope["path"])) if scope["type"] == "http" else None
        )
        if endpoint is None:
            await self.app(scope, receive, send)
            return
        scope["route"] = self.marks[(scope["method"], scope["path"])]
        request = Request(scope, receive)
        try:
            response = await endpoint(request)
        except Exception as exc:
            handler = handler_for(scope["app"].exception_handlers, exc)
            if handler is None:
                raise
            response = await handler(request, exc)
        await response(scope, receive, send)


def handler_for(handlers: Mapping[object, Handler], exc: Exception) -> Handler | None:
    """The app's handler for this exception's nearest class, as Starlette's exception middleware
    picks it; the catch-all `Exception` handler is left to the server-error middleware."""
    for cls in type(exc).__mro__:
        if cls is Exception:
            return None
        found = handlers.get(cls)
        if found is not None:
            return found
    return None
