"""Thin routes of the gateway: sign-in, the caller and the merged docs (the proxy is a
middleware: gateway.proxy)."""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import parse_qsl

from fastapi import APIRouter, Request, Response
from fastapi.exceptions import RequestValidationError
from fastapi.openapi.docs import get_swagger_ui_html, get_swagger_ui_oauth2_redirect_html
from fastapi.responses import HTMLResponse, JSONResponse
from pydantic import ValidationError

from gateway import service
from gateway.errors import (
    InvalidCredentials,
    PayloadTooLarge,
    UnsupportedMediaType,
)
from gateway.openapi import build_merged
from gateway.runtime import Runtime
from gateway.schemas import AccountCreate, AccountRead, Credentials, TokenResponse
from yanxiu.kit.auth import Principal
from yanxiu.kit.deps import CurrentUser, Session
from yanxiu.kit.errors import PROBLEM_JSON, render_domain_error

PROBLEM: dict[int | str, dict[str, Any]] = {
    code: {"description": text, "content": {PROBLEM_JSON: {}}}
    for code, text in [
        (401, "用户名或密码错误 (Wrong username or password)"),
        (413, "请求内容过大 (Request body too large)"),
        (415, "不支持的请求格式 (Unsupported media type)"),
        (422, "请求参数校验失败 (Validation failed)"),
        (429, "请求过于频繁 (Too many requests)"),
    ]
}
_CREDENTIALS_SCHEMA = Credentials.model_json_schema()
TOKEN_BODY = {
    "requestBody": {
        "required": True,
        "content": {
            "application/json": {"schema": _CREDENTIALS_SCHEMA},
            "application/x-www-form-urlencoded": {"schema": _CREDENTIALS_SCHEMA},
        },
    }
}

auth = APIRouter(prefix="/api/v1/auth", tags=["auth"])
MAX_CREDENTIALS_BYTES = 16 * 1024


async def read_credentials(request: Request) -> Credentials:
    """Credentials from a JSON body or an OAuth2 password form (what Swagger's Authorize sends);
    parsed by hand so the gateway needs no multipart parser."""
    media_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    raw = b""
    async for chunk in request.stream():
        raw += chunk
        if len(raw) > MAX_CREDENTIALS_BYTES:
            raise PayloadTooLarge()
    data: Any
    if media_type == "application/x-www-form-urlencoded":
        try:
            data = dict(parse_qsl(raw.decode("utf-8"), keep_blank_values=True))
        except UnicodeDecodeError:
            data = None
    elif media_type in ("", "application/json") or media_type.endswith("+json"):
        try:
            data = json.loads(raw)
        except ValueError as exc:
            raise RequestValidationError(
                [{"type": "json_invalid", "loc": ("body",), "msg": f"Invalid JSON: {exc}"}]
            ) from exc
    else:
        raise UnsupportedMediaType(
            "请以 JSON 或表单提交用户名和密码",
            "Send username and password as JSON or application/x-www-form-urlencoded",
        )
    try:
        return Credentials.model_validate(data)
    except ValidationError as exc:
        errors = [{**e, "loc": ("body", *e["loc"])} for e in exc.errors(include_url=False)]
        raise RequestValidationError(errors) from exc


@auth.post(
    "/token",
    response_model=TokenResponse,
    summary="登录 Sign in: a bearer token",
    responses=PROBLEM,
    openapi_extra=TOKEN_BODY,
)
async def issue_token(
    request: Request, response: Response, session: Session, rt: Runtime
) -> Response | TokenResponse:
    credentials = await read_credentials(request)
    issued = await service.login(
        session,
        rt.issuer,
        username=credentials.username,
        password=credentials.password,
        max_failures=rt.settings.login_max_failures,
        lockout_seconds=rt.settings.login_lockout_seconds,
    )
    if issued is None:
        # Answered rather than raised: the boundary must still commit the failure count.
        refused = render_domain_error(InvalidCredentials(), request.url.path)
        refused.headers["WWW-Authenticate"] = "Bearer"
        return refused
    response.headers["Cache-Control"] = "no-store"
    return issued


@auth.get(
    "/me",
    response_model=Principal,
    summary="当前用户 The caller",
    openapi_extra={"security": [{"bearerAuth": []}, {"OAuth2Password": []}]},
)
async def me(user: CurrentUser) -> Principal:
    return user


@auth.post(
    "/accounts",
    response_model=AccountRead,
    status_code=201,
    summary="开通账号 Open an account for the level below",
    responses={
        code: {"description": text, "content": {PROBLEM_JSON: {}}}
        for code, text in [
            (403, "超出权限或管理范围 (Not allowed or outside your scope)"),
            (409, "用户名已被使用 (The username is taken)"),
            (422, "请求参数校验失败 (Validation failed)"),
        ]
    },
    openapi_extra={"security": [{"bearerAuth": []}, {"OAuth2Password": []}]},
)
async def open_account(body: AccountCreate, session: Session, user: CurrentUser) -> AccountRead:
    return AccountRead.model_validate(await service.open_account(session, actor=user, data=body))


docs = APIRouter(include_in_schema=False)


@docs.get("/openapi.json")
async def openapi_document(request: Request, rt: Runtime) -> JSONResponse:
    own = request.app.openapi()
    merged = await rt.openapi.get(
        lambda: build_merged(own, rt.http, rt.upstreams, timeout=rt.settings.probe_timeout_seconds)
    )
    return JSONResponse(merged)


@docs.get("/docs")
async def swagger_ui(request: Request) -> HTMLResponse:
    root = request.scope.get("root_path", "")
    return get_swagger_ui_html(
        openapi_url=f"{root}/openapi.json",
        title="研修平台 API (Yanxiu API)",
        oauth2_redirect_url=f"{root}/docs/oauth2-redirect",
        swagger_ui_parameters={"persistAuthorization": True},
    )


@docs.get("/docs/oauth2-redirect")
async def swagger_ui_redirect() -> HTMLResponse:
    return get_swagger_ui_oauth2_redirect_html()
