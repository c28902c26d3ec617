"""Request body limits per route (请求体大小限制), at the gateway, before anything reaches a
service: a Content-Length past the route's limit is answered 413 without reading the body; a
chunked body is counted as it streams and cut off with a 413 the moment it passes the limit
(nothing more is read, and the service sees the request end as a disconnect)."""

from __future__ import annotations

from collections.abc import Mapping

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from gateway.errors import PayloadTooLarge
from yanxiu.kit.errors import render_domain_error


class BodyLimits:
    """The limit of a path: that of the longest matching prefix in the table (a prefix matches
    itself and what lies under it), else the default."""

    def __init__(self, default: int, table: Mapping[str, int]) -> None:
        self.default = default
        self._table = sorted(
            ((prefix.rstrip("/"), limit) for prefix, limit in table.items()),
            key=lambda entry: -len(entry[0]),
        )

    def for_path(self, path: str) -> int:
        for prefix, limit in self._table:
            if path == prefix or path.startswith(prefix + "/"):
                return limit
        return self.default


def _too_large(limit: int) -> PayloadTooLarge:
    mib = f"{limit / (1 << 20):g}"
    return PayloadTooLarge(
        f"请求内容超过此接口的上限（{mib} MiB）",
        f"The request body exceeds this route's limit ({mib} MiB)",
        limit_bytes=limit,
    )


class BodyLimitMiddleware:
    """The limits are the running app's (`app.state.runtime.body_limits`)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        limits: BodyLimits | None = getattr(
            getattr(scope["app"].state, "runtime", None), "body_limits", None
        )
        if scope["type"] != "http" or limits is None:
            await self.app(scope, receive, send)
            return
        length: bytes | None = None
        chunked = False
        for name, value in scope["headers"]:
            if name == b"content-length":
                length = value
            elif name == b"transfer-encoding":
                chunked = True
        limit = limits.for_path(scope["path"])
        if not chunked:
            # With a Content-Length the server delivers no more than that (and without either
            # header there is no body): only the number needs checking.
            if length is not None and length.strip().isdigit() and int(length) > limit:
                await render_domain_error(_too_large(limit), scope["path"])(scope, receive, send)
                return
            await self.app(scope, receive, send)
            return
        await self._counted(scope, receive, send, limit)

    async def _counted(self, scope: Scope, receive: Receive, send: Send, limit: int) -> None:
        received = 0
        cut = False
        started = False

        async def counting_receive() -> Message:
            nonlocal received, cut
            if cut:
                return {"type": "http.disconnect"}
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > limit:
                    cut = True
                    if not started:
                        response = render_domain_error(_too_large(limit), scope["path"])
                        await response(scope, receive, send)
                    return {"type": "http.disconnect"}
            return message

        async def guarded_send(message: Message) -> None:
            nonlocal started
            if cut:
                return  # the 413 went out; whatever the app answers to the cut is dropped
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        await self.app(scope, counting_receive, guarded_send)
