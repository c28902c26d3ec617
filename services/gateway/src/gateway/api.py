"""Thin routes of the gateway: sign-in, the caller, accounts and the merged docs (the proxy is a
middleware: gateway.proxy)."""

from __future__ import annotations

import uuid
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request, Response
from fastapi.openapi.docs import get_swagger_ui_html, get_swagger_ui_oauth2_redirect_html
from fastapi.responses import HTMLResponse

from gateway.accounts import service as accounts
from gateway.accounts.schemas import AccountUpdate
from gateway.enrollment_client import Enrollment
from gateway.errors import (
    InvalidCredentials,
)
from gateway.forms import read_form
from gateway.openapi import served_body
from gateway.ratelimit import client_ip
from gateway.runtime import Runtime
from gateway.schemas import AccountCreate, AccountRead, Credentials, OrgId, TokenResponse
from gateway.sessions.api import token_response
from yanxiu.kit.audit_api import audited
from yanxiu.kit.auth import Principal, Role
from yanxiu.kit.deps import CurrentUser, Session
from yanxiu.kit.errors import PROBLEM_JSON, render_domain_error
from yanxiu.kit.openapi import operation_id
from yanxiu.kit.pagination import MAX_LIMIT, Page

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

auth = APIRouter(prefix="/api/v1/auth", tags=["auth"], generate_unique_id_function=operation_id)


@auth.post(
    "/token",
    response_model=TokenResponse,
    summary="登录 Sign in: an access token and a refresh token",
    responses=PROBLEM,
    openapi_extra=TOKEN_BODY,
)
async def issue_token(
    request: Request, response: Response, rt: Runtime
) -> Response | TokenResponse:
    # No Session here: sign-in holds no database connection while it checks the password.
    credentials = await read_form(request, Credentials)
    client = client_ip(request.scope, trust_forwarded_for=rt.settings.trust_forwarded_for)
    try:
        issued = await rt.sign_in(
            username=credentials.username, password=credentials.password, client=client
        )
    except InvalidCredentials as exc:
        refused = render_domain_error(exc, request.url.path)
        refused.headers["WWW-Authenticate"] = "Bearer"
        return refused
    response.headers["Cache-Control"] = "no-store"
    return token_response(issued)


@auth.get(
    "/me",
    response_model=Principal,
    summary="当前用户 The caller",
)
async def me(user: CurrentUser) -> Principal:
    return user


def _problems(*codes: tuple[int, str]) -> dict[int | str, dict[str, Any]]:
    return {code: {"description": text, "content": {PROBLEM_JSON: {}}} for code, text in codes}


_NOT_ALLOWED = (403, "超出权限或管理范围 (Not allowed or outside your scope)")
_INVALID = (422, "请求参数校验失败 (Validation failed)")
_NO_ACCOUNT = (404, "账号不存在 (No such account)")
_NO_ENROLLMENT = (503, "信息采集服务暂不可用 (Enrollment unavailable; see Retry-After)")


@auth.post(
    "/accounts",
    response_model=AccountRead,
    status_code=201,
    summary="开通账号 Open an account (org and teacher checked with enrollment)",
    responses=_problems(
        _NOT_ALLOWED,
        (409, "用户名已被使用或教师已有账号 (Username taken, or the teacher has an account)"),
        (422, "机构、层级或教师不符 (Unknown org, wrong level, or teacher not there)"),
        _NO_ENROLLMENT,
    ),
    openapi_extra=audited("account.open"),
)
async def open_account(
    body: AccountCreate, session: Session, user: CurrentUser, enrollment: Enrollment
) -> AccountRead:
    account = await accounts.open_account(session, enrollment, actor=user, data=body)
    return AccountRead.model_validate(account)


@auth.get(
    "/accounts",
    response_model=Page[AccountRead],
    summary="账号列表 Accounts in your subtree",
    responses=_problems(_NOT_ALLOWED, _INVALID),
)
async def list_accounts(
    session: Session,
    user: CurrentUser,
    role: Role | None = None,
    org: Annotated[OrgId | None, Query(description="accounts at or under this org")] = None,
    active: bool | None = None,
    username_prefix: Annotated[str | None, Query(max_length=100)] = None,
    cursor: Annotated[str | None, Query(max_length=200)] = None,
    limit: Annotated[int, Query(ge=1, le=MAX_LIMIT)] = 50,
) -> Page[AccountRead]:
    return await accounts.list_accounts(
        session,
        actor=user,
        role=role,
        org_id=org,
        active=active,
        username_prefix=username_prefix,
        cursor=cursor,
        limit=limit,
    )


@auth.get(
    "/accounts/{account_id}",
    response_model=AccountRead,
    summary="账号 One account (yours, or one in your subtree)",
    responses=_problems(_NO_ACCOUNT, _INVALID),
)
async def get_account(account_id: uuid.UUID, session: Session, user: CurrentUser) -> AccountRead:
    account = await accounts.get_account(session, actor=user, account_id=account_id)
    return AccountRead.model_validate(account)


@auth.patch(
    "/accounts/{account_id}",
    response_model=AccountRead,
    summary="修改账号 Rename, disable or enable, reset the password (ends its sessions)",
    responses=_problems(_NOT_ALLOWED, _NO_ACCOUNT, _INVALID, _NO_ENROLLMENT),
    # One entry per change: account.update (name), account.disable / account.enable,
    # account.password_reset.
    openapi_extra=audited("account.update"),
)
async def update_account(
    account_id: uuid.UUID,
    body: AccountUpdate,
    session: Session,
    user: CurrentUser,
    enrollment: Enrollment,
) -> AccountRead:
    account = await accounts.update_account(
        session, enrollment, actor=user, account_id=account_id, data=body
    )
    return AccountRead.model_validate(account)


docs = APIRouter(include_in_schema=False)


@docs.get("/openapi.json")
async def openapi_document() -> Response:
    """The committed merged document: complete from the first request, whichever services
    are up."""
    return Response(served_body(), media_type="application/json")


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
