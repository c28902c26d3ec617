"""POST /api/v1/auth/token and GET /api/v1/auth/me through the gateway."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from typing import Any

import jwt
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from yanxiu.kit.auth import Role, TokenVerifier

PASSWORD = "研修-Passw0rd!"
WRONG = "用户名或密码错误 (Wrong username or password)"


async def test_token_accepts_json_credentials_and_signs_with_eddsa(
    gateway: Any, add_account: Callable[..., Any], keypair: tuple[str, str]
) -> None:
    teacher_id = uuid.uuid4()
    await add_account(
        "t.zhang",
        role="teacher",
        org_path=("370000", "370100", "370102", "s-001"),
        name="张老师",
        teacher_id=teacher_id,
    )
    async with gateway(token_ttl_seconds=3600) as client:
        answer = await client.post(
            "/api/v1/auth/token", json={"username": "T.Zhang", "password": PASSWORD}
        )
    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert body["token_type"] == "bearer" and body["expires_in"] == 3600
    assert body["role"] == "teacher"
    assert body["org_path"] == ["370000", "370100", "370102", "s-001"]
    assert answer.headers["cache-control"] == "no-store"
    assert jwt.get_unverified_header(body["access_token"])["alg"] == "EdDSA"
    principal = TokenVerifier(keypair[1]).verify(body["access_token"])
    assert principal.role is Role.teacher and principal.name == "张老师"
    assert principal.teacher_id == str(teacher_id)


async def test_token_accepts_the_oauth2_password_form(
    gateway: Any, add_account: Callable[..., Any]
) -> None:
    await add_account("form.user")
    async with gateway() as client:
        answer = await client.post(
            "/api/v1/auth/token",
            data={"grant_type": "password", "username": "form.user", "password": PASSWORD},
        )
    assert answer.status_code == 200, answer.text
    assert answer.json()["role"] == "school_admin"


async def test_token_rejects_wrong_password_without_revealing_which(
    gateway: Any, add_account: Callable[..., Any]
) -> None:
    await add_account("real.user")
    async with gateway() as client:
        wrong_password = await client.post(
            "/api/v1/auth/token", json={"username": "real.user", "password": "nope"}
        )
        unknown_user = await client.post(
            "/api/v1/auth/token", json={"username": "nobody", "password": "nope"}
        )
    for answer in (wrong_password, unknown_user):
        assert answer.status_code == 401
        assert answer.headers["content-type"] == "application/problem+json"
        assert answer.json()["code"] == "invalid_credentials"
        assert answer.json()["detail"] == WRONG

    def comparable(answer: Any) -> dict[str, Any]:
        return {k: v for k, v in answer.json().items() if k != "trace_id"}

    assert comparable(wrong_password) == comparable(unknown_user)


async def test_failed_sign_ins_are_counted_but_never_lock_the_account(
    gateway: Any, add_account: Callable[..., Any], session_factory: Callable[[], AsyncSession]
) -> None:
    account = await add_account("brute.forced")
    async with gateway(login_failures_per_client_and_user=3) as client:
        for _ in range(2):
            answer = await client.post(
                "/api/v1/auth/token", json={"username": "brute.forced", "password": "guess"}
            )
            assert answer.status_code == 401
        right = await client.post(
            "/api/v1/auth/token", json={"username": "brute.forced", "password": PASSWORD}
        )
    assert right.status_code == 200, right.text
    async with session_factory() as session:
        row = (
            await session.execute(
                text("SELECT failed_logins, last_login_at FROM gateway.accounts WHERE id = :id"),
                {"id": account.id},
            )
        ).one()
    # Counted while they happened, reset by the sign-in that succeeded.
    assert row.failed_logins == 0 and row.last_login_at is not None


async def test_malformed_sign_in_is_a_422_problem_not_a_500(gateway: Any) -> None:
    async with gateway() as client:
        not_json = await client.post(
            "/api/v1/auth/token",
            content=b"{username:",
            headers={"content-type": "application/json"},
        )
        missing = await client.post("/api/v1/auth/token", json={"username": "x"})
        a_list = await client.post("/api/v1/auth/token", json=["x", "y"])
        empty_form = await client.post("/api/v1/auth/token", data={"username": ""})
        bad_bytes = await client.post(
            "/api/v1/auth/token",
            content=b"username=\xff\xfe",
            headers={"content-type": "application/x-www-form-urlencoded"},
        )
        plain = await client.post(
            "/api/v1/auth/token", content=b"x", headers={"content-type": "text/plain"}
        )
        huge = await client.post(
            "/api/v1/auth/token", json={"username": "x", "password": "p" * 100_000}
        )
    for answer in (not_json, missing, a_list, empty_form, bad_bytes):
        assert answer.status_code == 422, answer.text
        assert answer.headers["content-type"] == "application/problem+json"
        assert answer.json()["code"] == "validation_failed"
    assert {e["field"] for e in missing.json()["errors"]} == {"password"}
    assert plain.status_code == 415
    assert plain.json()["code"] == "unsupported_media_type"
    assert huge.status_code == 413
    assert huge.headers["content-type"] == "application/problem+json"


async def test_me_returns_the_callers_principal(
    gateway: Any, token_for: Callable[..., str]
) -> None:
    token = token_for("county_admin", ["370000", "370100", "370102"], user_id="u-42")
    async with gateway() as client:
        answer = await client.get("/api/v1/auth/me", headers={"Authorization": f"Bearer {token}"})
    assert answer.status_code == 200
    assert answer.json() == {
        "user_id": "u-42",
        "role": "county_admin",
        "org_path": ["370000", "370100", "370102"],
        "name": "测试用户",
        "teacher_id": None,
    }


async def test_me_without_a_valid_token_is_401_problem(gateway: Any) -> None:
    async with gateway() as client:
        missing = await client.get("/api/v1/auth/me")
        forged = await client.get("/api/v1/auth/me", headers={"Authorization": "Bearer abc.def"})
    for answer in (missing, forged):
        assert answer.status_code == 401
        assert answer.headers["content-type"] == "application/problem+json"
        assert answer.json()["code"] == "unauthorized"


async def test_token_from_the_gateway_opens_me(
    gateway: Any, add_account: Callable[..., Any]
) -> None:
    account = await add_account("round.trip", role="city_admin", org_path=("370000", "370100"))
    async with gateway() as client:
        token = (
            await client.post(
                "/api/v1/auth/token", json={"username": "round.trip", "password": PASSWORD}
            )
        ).json()["access_token"]
        me = await client.get("/api/v1/auth/me", headers={"Authorization": f"Bearer {token}"})
    assert me.json()["user_id"] == str(account.id)
    assert me.json()["org_path"] == ["370000", "370100"]
