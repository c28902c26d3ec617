"""Domain errors and their rendering as RFC 9457 problem+json.

Each rule gets its own error type carrying a stable `code`, an HTTP status and a message in
Chinese with English beside it: `class RegistrationClosed(DomainError): status = 409; ...`.
"""

from __future__ import annotations

import logging
from typing import Any, ClassVar

import asyncpg
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from sqlalchemy.exc import DBAPIError, SQLAlchemyError
from starlette.exceptions import HTTPException as StarletteHTTPException

from yanxiu.kit.context import trace_id_var
from yanxiu.kit.faults import Fault, Throttled, classify

PROBLEM_JSON = "application/problem+json"
log = logging.getLogger(__name__)


class DomainError(Exception):
    status: ClassVar[int] = 400
    code: ClassVar[str] = "bad_request"
    title_zh: ClassVar[str] = "请求无效"
    title_en: ClassVar[str] = "Bad request"

    def __init__(
        self, detail_zh: str | None = None, detail_en: str | None = None, **extra: Any
    ) -> None:
        self.detail_zh = detail_zh or self.title_zh
        self.detail_en = detail_en or self.title_en
        self.extra = extra
        super().__init__(f"{self.code}: {self.detail_en}")


class NotFound(DomainError):
    status = 404
    code = "not_found"
    title_zh = "资源不存在"
    title_en = "Not found"


class Unauthorized(DomainError):
    status = 401
    code = "unauthorized"
    title_zh = "未登录或令牌无效"
    title_en = "Missing or invalid credentials"


class Forbidden(DomainError):
    status = 403
    code = "forbidden"
    title_zh = "无权执行此操作"
    title_en = "You are not allowed to do this"


class OutOfScope(Forbidden):
    code = "out_of_scope"
    title_zh = "超出您的管理范围"
    title_en = "Outside your organisation scope"


class Conflict(DomainError):
    status = 409
    code = "conflict"
    title_zh = "与现有数据冲突"
    title_en = "Conflicts with existing data"


class BodyTooDeep(DomainError):
    """JSON nested deeper than a parser can follow (e.g. 100,000 × "["): Python's parser gives
    up with RecursionError, which is the caller's doing, not the server's."""

    status = 422
    code = "json_too_deep"
    title_zh = "请求体嵌套层级过深"
    title_en = "The body is nested too deeply"


class BodyUnreadable(DomainError):
    status = 422
    code = "json_invalid"
    title_zh = "请求体不是合法的 JSON"
    title_en = "The body is not valid JSON"


class ValueOutOfRange(DomainError):
    """A value the database refused as data (SQLSTATE class 22: out of int4/int8 range, a date
    past year 9999, a NUL character in text). Request models bound their values so that this is
    never reached; it is the net under them, so that a missed bound is a 422 and not a 500."""

    status = 422
    code = "value_out_of_range"
    title_zh = "数值超出允许范围或格式无效"
    title_en = "A value is out of range or malformed"


class ServiceUnavailable(DomainError):
    status = 503
    code = "service_unavailable"
    title_zh = "服务暂不可用"
    title_en = "Service unavailable"


class DatabaseUnavailable(ServiceUnavailable):
    """The service's database is down, restarting or out of connections: nothing the caller
    did, and the same request succeeds once it is back (the pool reconnects by itself)."""

    code = "database_unavailable"
    title_zh = "数据库暂时不可用，请稍后重试"
    title_en = "The database is temporarily unavailable; please retry shortly"
    retry_after: ClassVar[int] = 5

    def __init__(self) -> None:
        super().__init__(retry_after=self.retry_after)


class TransactionConflict(ServiceUnavailable):
    """The request lost a race with a concurrent one (serialization failure, deadlock, a lock
    not granted): nothing was changed, and sending it again succeeds."""

    code = "transaction_conflict"
    title_zh = "与同时进行的操作冲突，未作任何更改，请重试"
    title_en = "Conflicted with a concurrent change; nothing was changed, please retry"
    retry_after: ClassVar[int] = 1

    def __init__(self) -> None:
        super().__init__(retry_after=self.retry_after)


def problem(
    status: int, code: str, title: str, detail: str, *, instance: str | None = None, **extra: Any
) -> JSONResponse:
    body: dict[str, Any] = {
        "type": f"https://yanxiu.example/problems/{code}",
        "title": title,
        "status": status,
        "detail": detail,
        "code": code,
    }
    if instance:
        body["instance"] = instance
    trace = trace_id_var.get()
    if trace:
        body["trace_id"] = trace
    body.update(extra)
    headers = {"Retry-After": str(extra["retry_after"])} if "retry_after" in extra else None
    return JSONResponse(body, status_code=status, media_type=PROBLEM_JSON, headers=headers)


def render_domain_error(exc: DomainError, instance: str | None = None) -> JSONResponse:
    return problem(
        exc.status,
        exc.code,
        f"{exc.title_zh} ({exc.title_en})",
        f"{exc.detail_zh} ({exc.detail_en})",
        instance=instance,
        message_zh=exc.detail_zh,
        message_en=exc.detail_en,
        **exc.extra,
    )


def _field_errors(exc: RequestValidationError) -> list[dict[str, Any]]:
    out = []
    for err in exc.errors():
        loc = [str(p) for p in err.get("loc", ())]
        out.append(
            {
                "field": ".".join(loc[1:]) if len(loc) > 1 else ".".join(loc),
                "location": loc[0] if loc else "",
                "message": err.get("msg", ""),
                "type": err.get("type", ""),
            }
        )
    return out


def _instance(request: Request) -> str:
    """The path as the caller sent it (behind the gateway, with its /api/v1/<service> prefix)."""
    return request.headers.get("x-forwarded-prefix", "").rstrip("/") + request.url.path


def install_error_handlers(app: FastAPI) -> None:
    async def on_domain(request: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, DomainError)
        return render_domain_error(exc, _instance(request))

    async def on_validation(request: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, RequestValidationError)
        return problem(
            422,
            "validation_failed",
            "请求参数校验失败 (Validation failed)",
            "请检查标注的字段 (Check the listed fields)",
            instance=_instance(request),
            errors=_field_errors(exc),
        )

    async def on_http(request: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, StarletteHTTPException)
        # FastAPI turns any failure to parse a JSON body other than JSONDecodeError into a bare
        # 400 "There was an error parsing the body": name the real cause, as a 422.
        if isinstance(exc.__cause__, RecursionError):
            return render_domain_error(BodyTooDeep(), _instance(request))
        if exc.status_code == 400 and isinstance(exc.__cause__, ValueError):
            return render_domain_error(BodyUnreadable(), _instance(request))
        code = {
            404: "not_found",
            405: "method_not_allowed",
            401: "unauthorized",
            403: "forbidden",
        }.get(exc.status_code, f"http_{exc.status_code}")
        return problem(
            exc.status_code, code, str(exc.detail), str(exc.detail), instance=_instance(request)
        )

    async def on_unexpected(request: Request, exc: Exception) -> JSONResponse:
        log.exception("unhandled error", extra={"path": request.url.path})
        return problem(
            500,
            "internal_error",
            "服务器内部错误 (Internal error)",
            "请稍后重试 (Please retry later)",
            instance=_instance(request),
        )

    async def on_too_deep(request: Request, exc: Exception) -> JSONResponse:
        # Only nesting in what a caller sent recurses this deep (a body, a cursor).
        log.warning("input nested too deeply", extra={"path": request.url.path})
        return render_domain_error(BodyTooDeep(), _instance(request))

    outage_log = Throttled(log, every=5.0)

    async def on_infrastructure(request: Request, exc: Exception) -> JSONResponse:
        """The database (or a peer) down, restarting, saturated, or a lost race: 503 with
        `Retry-After` at once, never a 500. Anything else goes on to the 500 below."""
        fault = classify(exc)
        if fault is None:
            raise exc
        error = TransactionConflict() if fault is Fault.CONFLICT else DatabaseUnavailable()
        outage_log.warning(
            "answering 503: infrastructure unavailable",
            extra={"path": request.url.path, "code": error.code, "error": repr(exc)[:300]},
        )
        return render_domain_error(error, _instance(request))

    async def on_database(request: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, DBAPIError)
        if str(getattr(exc.orig, "sqlstate", "") or "").startswith("22"):
            log.warning(
                "database refused a value",
                extra={"path": request.url.path, "error": type(exc.orig).__name__},
            )
            return render_domain_error(ValueOutOfRange(), _instance(request))
        return await on_infrastructure(request, exc)

    async def on_driver_data(request: Request, exc: Exception) -> JSONResponse:
        # The same refusal as `on_database`'s, from a statement run on the driver (kit.reads).
        log.warning(
            "database refused a value",
            extra={"path": request.url.path, "error": type(exc).__name__},
        )
        return render_domain_error(ValueOutOfRange(), _instance(request))

    app.add_exception_handler(DomainError, on_domain)
    app.add_exception_handler(asyncpg.DataError, on_driver_data)
    app.add_exception_handler(RecursionError, on_too_deep)
    app.add_exception_handler(DBAPIError, on_database)
    # Registered by type so that they answer inside the app (request id, access log and
    # metrics see the 503), not in the outermost catch-all.
    for infrastructure in (SQLAlchemyError, OSError, asyncpg.PostgresError, asyncpg.InterfaceError):
        app.add_exception_handler(infrastructure, on_infrastructure)
    app.add_exception_handler(RequestValidationError, on_validation)
    app.add_exception_handler(StarletteHTTPException, on_http)
    app.add_exception_handler(Exception, on_unexpected)
