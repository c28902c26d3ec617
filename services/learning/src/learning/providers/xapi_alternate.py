"""xAPI 1.0.3 Alternate Request Syntax (替代请求语法, Communication §1.3), for clients that can
send neither other methods nor headers: `POST <resource>?method=PUT` with a form body.

What §1.3 requires of the LRS, and this middleware does before the normal routes see the request:
only POST may carry `method` (400 on any other method), and `method` is the query string's only
parameter; `method` is GET, HEAD, PUT, POST or DELETE; the body is
application/x-www-form-urlencoded; its `Authorization`, `X-Experience-API-Version`,
`Content-Type`, `Content-Length`, `If-Match` and `If-None-Match` are headers, `content` is the
body (required for PUT and POST) and every other parameter is a query parameter. The rewritten
request then goes through the usual routes, version check and authentication."""

from __future__ import annotations

from urllib.parse import parse_qsl, urlencode

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from learning.providers.errors import XapiAlternateSyntaxInvalid, XapiBodyTooLarge
from learning.providers.xapi_api import VERSION, VERSION_HEADER
from yanxiu.kit.errors import DomainError, render_domain_error

PREFIX = "/xapi/"
METHODS = frozenset({"GET", "HEAD", "PUT", "POST", "DELETE"})
FORM = "application/x-www-form-urlencoded"
HEADER_PARAMETERS = frozenset(
    {
        "authorization",
        "x-experience-api-version",
        "content-type",
        "content-length",
        "if-match",
        "if-none-match",
    }
)
# Headers that describe the form, not the content it carries.
BODY_HEADERS = frozenset({b"content-type", b"content-length", b"transfer-encoding"})
MAX_BODY = 10 * 1024 * 1024
MAX_FIELDS = 1000


def _bad(zh: str, en: str, **extra: object) -> XapiAlternateSyntaxInvalid:
    return XapiAlternateSyntaxInvalid(zh, en, **extra)


def _repeated(name: str) -> XapiAlternateSyntaxInvalid:
    return _bad(f"表单参数 {name} 重复", f"The form parameter {name} is repeated")


class AlternateRequestSyntax:
    """Plain ASGI, so that every other request costs a look at its path and query string (an
    `/xapi/` request whose query string mentions `method` has it parsed once more)."""

    def __init__(self, app: ASGIApp, max_body: int = MAX_BODY) -> None:
        self.app = app
        self.max_body = max_body

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if (
            scope["type"] != "http"
            or b"method" not in scope["query_string"]
            or not scope["path"].startswith(PREFIX)
        ):
            await self.app(scope, receive, send)
            return
        query = parse_qsl(scope["query_string"].decode("latin-1"), keep_blank_values=True)
        if all(name != "method" for name, _ in query):
            await self.app(scope, receive, send)
            return
        try:
            method = _intended_method(scope["method"], query)
            body = await _read_body(scope, receive, self.max_body)
            if body is None:  # the client went away
                return
            rewritten, content = _rewrite(scope, method, body)
        except DomainError as exc:
            await _refuse(exc, scope, receive, send)
            return
        replayed = False

        async def replay() -> Message:
            nonlocal replayed
            if replayed:
                return await receive()
            replayed = True
            return {"type": "http.request", "body": content, "more_body": False}

        try:
            await self.app(rewritten, replay, send)
        finally:
            # The router leaves the matched route in the scope it was given; the request
            # metrics outside read it from theirs.
            if "route" in rewritten:
                scope["route"] = rewritten["route"]


def _intended_method(actual: str, query: list[tuple[str, str]]) -> str:
    if actual != "POST":
        raise _bad(
            "只有 POST 请求可以带 method 参数",
            "Only a POST may carry the method parameter (alternate request syntax)",
        )
    if len(query) != 1:
        others = sorted({name for name, _ in query if name != "method"})
        raise _bad(
            "替代请求语法的查询串只能有 method 参数，其余参数须放在表单中",
            "The query string may hold only the method parameter: send the others as form "
            "parameters",
            unsupported=others or ["method"],
        )
    method = query[0][1].upper()
    if method not in METHODS:
        raise _bad(
            "method 须为 GET、HEAD、PUT、POST 或 DELETE",
            "method must be GET, HEAD, PUT, POST or DELETE",
        )
    return method


async def _read_body(scope: Scope, receive: Receive, limit: int) -> bytes | None:
    declared = next((v for k, v in scope["headers"] if k == b"content-length"), b"")
    if declared.isdigit() and int(declared) > limit:
        raise XapiBodyTooLarge(limit=limit)
    chunks: list[bytes] = []
    size = 0
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            return None
        chunk = message.get("body", b"")
        size += len(chunk)
        if size > limit:
            raise XapiBodyTooLarge(limit=limit)
        chunks.append(chunk)
        if not message.get("more_body", False):
            return b"".join(chunks)


def _form(scope: Scope, body: bytes) -> list[tuple[str, str]]:
    if not body:
        return []
    media = next((v for k, v in scope["headers"] if k == b"content-type"), b"")
    if media.split(b";")[0].strip().lower().decode("latin-1") != FORM:
        raise _bad(
            f"替代请求语法的请求体须为 {FORM}",
            f"An alternate request syntax body must be {FORM}",
        )
    try:
        # Strict: every field is name=value, so that JSON text or other bodies are refused.
        return parse_qsl(
            body.decode("ascii"),
            keep_blank_values=True,
            strict_parsing=True,
            errors="strict",
            max_num_fields=MAX_FIELDS,
        )
    except ValueError as exc:  # UnicodeDecodeError included
        raise _bad("请求体不是合法的表单编码", "The body is not url-encoded form data") from exc


def _rewrite(scope: Scope, method: str, body: bytes) -> tuple[Scope, bytes]:
    """The request the form stands for: its method, headers, query string and body. The body's
    length is counted here, whatever a form's Content-Length said."""
    headers: dict[bytes, bytes] = {}
    query: list[tuple[str, str]] = []
    content: str | None = None
    for name, value in _form(scope, body):
        header = name.lower().encode()
        if name == "content":
            if content is not None:
                raise _repeated(name)
            content = value
        elif name.lower() in HEADER_PARAMETERS:
            if header in headers:
                raise _repeated(name)
            try:
                headers[header] = value.encode("latin-1")
            except UnicodeEncodeError as exc:
                raise _bad(f"{name} 含非法字符", f"{name} has characters a header cannot") from exc
        else:
            query.append((name, value))
    if content is None and method in ("PUT", "POST"):
        raise _bad(
            "PUT 与 POST 须在表单参数 content 中给出请求体",
            "A PUT or POST needs its body in the form parameter content",
        )
    raw = (content or "").encode()
    media = headers.pop(b"content-type", b"application/json")
    headers.pop(b"content-length", None)
    if content is not None:
        headers[b"content-type"] = media
    headers[b"content-length"] = str(len(raw)).encode()
    kept = [(k, v) for k, v in scope["headers"] if k not in BODY_HEADERS and k not in headers]
    rewritten = {
        **scope,
        "method": method,
        "query_string": urlencode(query).encode("ascii"),
        "headers": [*kept, *headers.items()],
    }
    return rewritten, raw


async def _refuse(exc: DomainError, scope: Scope, receive: Receive, send: Send) -> None:
    """problem+json as the app's own error handlers answer (which this middleware runs outside
    of), with the version header every xAPI answer carries."""
    prefix = next((v for k, v in scope["headers"] if k == b"x-forwarded-prefix"), b"")
    answer = render_domain_error(exc, prefix.decode("latin-1").rstrip("/") + scope["path"])
    answer.headers[VERSION_HEADER] = VERSION
    await answer(scope, receive, send)
