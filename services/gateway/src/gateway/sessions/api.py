"""Thin routes of sessions: refresh, logout and the public keys (JWKS)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from fastapi import APIRouter, Request, Response
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field

from gateway.forms import read_form
from gateway.runtime import Runtime
from gateway.schemas import TokenResponse
from gateway.sessions import families
from gateway.sessions.families import Issued
from yanxiu.kit.deps import Session
from yanxiu.kit.errors import PROBLEM_JSON, Unauthorized, render_domain_error
from yanxiu.kit.openapi import operation_id

sessions = APIRouter(prefix="/api/v1/auth", tags=["auth"], generate_unique_id_function=operation_id)
jwks = APIRouter(include_in_schema=False)


class RefreshRequest(BaseModel):
    """JSON, or the OAuth2 form (`grant_type=refresh_token&refresh_token=…`)."""

    refresh_token: str = Field(min_length=1, max_length=200)


class LogoutRequest(BaseModel):
    refresh_token: str | None = Field(default=None, max_length=200)


def _form(model: type[BaseModel]) -> dict[str, Any]:
    schema = model.model_json_schema()
    return {
        "requestBody": {
            "required": model is RefreshRequest,
            "content": {
                "application/json": {"schema": schema},
                "application/x-www-form-urlencoded": {"schema": schema},
            },
        }
    }


def _problems(*codes: tuple[int, str]) -> dict[int | str, dict[str, Any]]:
    return {code: {"description": text, "content": {PROBLEM_JSON: {}}} for code, text in codes}


def token_response(issued: Issued) -> TokenResponse:
    return TokenResponse(
        access_token=issued.access_token,
        expires_in=issued.expires_in,
        refresh_token=issued.refresh_token,
        refresh_expires_in=issued.refresh_expires_in,
        role=issued.principal.role.value,
        org_path=list(issued.principal.org_path),
    )


@sessions.post(
    "/refresh",
    operation_id="refreshToken",
    response_model=TokenResponse,
    summary="刷新令牌 Exchange a refresh token for a new pair (the old one is retired)",
    responses=_problems(
        (401, "刷新令牌无效、已用过或登录已失效 (Invalid, reused, or the sign-in has ended)"),
        (413, "请求内容过大 (Request body too large)"),
        (422, "请求参数校验失败 (Validation failed)"),
    ),
    openapi_extra=_form(RefreshRequest),
)
async def refresh(
    request: Request, response: Response, session: Session, rt: Runtime
) -> Response | TokenResponse:
    body = await read_form(request, RefreshRequest)
    outcome = await families.refresh(
        session,
        rt.issuer,
        refresh_token=body.refresh_token,
        refresh_ttl=rt.settings.refresh_token_ttl_seconds,
        now=datetime.now(UTC),
    )
    response.headers["Cache-Control"] = "no-store"
    if isinstance(outcome, Issued):
        return token_response(outcome)
    if outcome.ended is not None:
        rt.sessions.revoke([outcome.ended])
    # Answered rather than raised: the boundary must still commit a revocation.
    refused = render_domain_error(outcome.error, request.url.path)
    refused.headers["WWW-Authenticate"] = "Bearer"
    return refused


@sessions.post(
    "/logout",
    status_code=204,
    summary="退出登录 End this sign-in (refresh token in the body, or the bearer token)",
    responses=_problems((401, "令牌无效 (Invalid bearer token)")),
    openapi_extra={
        **_form(LogoutRequest),
        "security": [{"bearerAuth": []}, {}],  # either token, or the refresh token
    },
)
async def logout(request: Request, session: Session, rt: Runtime) -> Response:
    body = await read_form(request, LogoutRequest, optional=True)
    session_id = None
    scheme, _, token = request.headers.get("authorization", "").partition(" ")
    if scheme.lower() == "bearer" and token.strip():
        try:
            session_id = rt.verifier.verify_signature(token.strip()).session_id
        except Unauthorized:
            if body.refresh_token is None:
                raise
    ended = await families.end(
        session, refresh_token=body.refresh_token, session_id=session_id, now=datetime.now(UTC)
    )
    rt.sessions.revoke(ended)
    return Response(status_code=204)


@sessions.get(
    "/jwks",
    summary="公钥 The public keys tokens are signed with (JWKS, RFC 7517)",
    response_description="JSON Web Key Set: the current key first, then previous ones",
)
async def public_keys(rt: Runtime) -> JSONResponse:
    return _jwks(rt)


@jwks.get("/.well-known/jwks.json")
async def well_known_jwks(rt: Runtime) -> JSONResponse:
    return _jwks(rt)


def _jwks(rt: Runtime) -> JSONResponse:
    return JSONResponse(
        rt.keys.jwks(),
        media_type="application/jwk-set+json",
        headers={"Cache-Control": "public, max-age=300"},
    )
