"""Sessions: short access tokens with `kid`, `sid` and `iat`, rotating refresh tokens (a reused
one ends the whole sign-in), logout, and the gateway's refusal of tokens whose session ended."""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable
from typing import Any

import jwt
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from yanxiu.kit.jwks import key_id, load_public_keys
from yanxiu.testing import eventually

PASSWORD = "研修-Passw0rd!"
LIXIA_SCHOOL = ("370000", "370100", "370102", "370102-S001")
OTHER_SCHOOL = ("370000", "370100", "370102", "370102-S002")


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


async def sign_in(client: Any, username: str, password: str = PASSWORD) -> dict[str, Any]:
    answer = await client.post(
        "/api/v1/auth/token", json={"username": username, "password": password}
    )
    assert answer.status_code == 200, answer.text
    body: dict[str, Any] = answer.json()
    return body


async def refresh(client: Any, token: str) -> Any:
    return await client.post("/api/v1/auth/refresh", json={"refresh_token": token})


async def test_sign_in_returns_a_short_access_token_with_kid_sid_and_iat_and_a_refresh_token(
    gateway: Any, add_account: Callable[..., Any], keypair: tuple[str, str]
) -> None:
    await add_account("pair.user")
    async with gateway() as client:
        body = await sign_in(client, "pair.user")
    assert body["expires_in"] == 15 * 60  # the default: short
    assert body["refresh_expires_in"] == 30 * 24 * 3600
    assert len(body["refresh_token"]) >= 43  # 256 random bits
    (public,) = load_public_keys(keypair[1])
    header = jwt.get_unverified_header(body["access_token"])
    assert header["kid"] == key_id(public) and header["alg"] == "EdDSA"
    claims = jwt.decode(body["access_token"], options={"verify_signature": False})
    assert uuid.UUID(claims["sid"]) and claims["exp"] - claims["iat"] <= 15 * 60


async def test_refresh_tokens_are_stored_only_as_digests(
    gateway: Any, add_account: Callable[..., Any], session_factory: Callable[[], AsyncSession]
) -> None:
    await add_account("digest.user")
    async with gateway() as client:
        body = await sign_in(client, "digest.user")
    async with session_factory() as session:
        stored = (await session.scalars(text("SELECT digest FROM gateway.refresh_tokens"))).all()
    assert len(stored) == 1 and len(stored[0]) == 32
    assert body["refresh_token"].encode() not in stored[0]


async def test_refresh_returns_a_new_pair_and_retires_the_old_refresh_token(
    gateway: Any, add_account: Callable[..., Any]
) -> None:
    await add_account("rotating.user")
    async with gateway() as client:
        first = await sign_in(client, "rotating.user")
        second = await refresh(client, first["refresh_token"])
        assert second.status_code == 200, second.text
        pair = second.json()
        assert pair["refresh_token"] != first["refresh_token"]
        assert second.headers["cache-control"] == "no-store"
        me = await client.get("/api/v1/auth/me", headers=bearer(pair["access_token"]))
        assert me.status_code == 200
        # Same sign-in: the session id stays, so a logout ends every token of it.
        sid = [
            jwt.decode(t, options={"verify_signature": False})["sid"]
            for t in (first["access_token"], pair["access_token"])
        ]
        assert sid[0] == sid[1]
        third = await refresh(client, pair["refresh_token"])
        assert third.status_code == 200


async def test_a_reused_refresh_token_revokes_the_whole_family(
    gateway: Any, add_account: Callable[..., Any], session_factory: Callable[[], AsyncSession]
) -> None:
    account = await add_account("stolen.token")
    async with gateway() as client:
        first = await sign_in(client, "stolen.token")
        rotated = (await refresh(client, first["refresh_token"])).json()
        # The old token comes back (a thief's copy, or the owner's): the family ends.
        reused = await refresh(client, first["refresh_token"])
        assert reused.status_code == 401
        assert reused.headers["content-type"] == "application/problem+json"
        assert reused.json()["code"] == "refresh_token_reused"
        # Neither the newest refresh token nor the access tokens of the family work any more.
        newest = await refresh(client, rotated["refresh_token"])
        assert (newest.status_code, newest.json()["code"]) == (401, "session_revoked")
        me = await client.get("/api/v1/auth/me", headers=bearer(rotated["access_token"]))
        assert (me.status_code, me.json()["code"]) == (401, "session_revoked")
        # Another sign-in is a new family, untouched.
        again = await sign_in(client, "stolen.token")
        assert (await refresh(client, again["refresh_token"])).status_code == 200
    async with session_factory() as session:
        audited = await session.scalar(
            text(
                "SELECT count(*) FROM gateway.audit_log"
                " WHERE action = 'session.refresh_reuse' AND target_id = :id"
            ),
            {"id": str(account.id)},
        )
    assert audited == 1


async def test_an_unknown_refresh_token_is_401_and_a_malformed_body_422(gateway: Any) -> None:
    async with gateway() as client:
        unknown = await refresh(client, "x" * 43)
        empty = await client.post("/api/v1/auth/refresh", json={})
        nested = await client.post(
            "/api/v1/auth/refresh",
            content=b"[" * 10_000,
            headers={"content-type": "application/json"},
        )
    assert (unknown.status_code, unknown.json()["code"]) == (401, "invalid_refresh_token")
    assert empty.status_code == 422 and nested.status_code == 422


async def test_refresh_accepts_the_oauth2_form(
    gateway: Any, add_account: Callable[..., Any]
) -> None:
    await add_account("form.refresh")
    async with gateway() as client:
        first = await sign_in(client, "form.refresh")
        answer = await client.post(
            "/api/v1/auth/refresh",
            data={"grant_type": "refresh_token", "refresh_token": first["refresh_token"]},
        )
    assert answer.status_code == 200, answer.text


async def test_logout_revokes_the_family(gateway: Any, add_account: Callable[..., Any]) -> None:
    await add_account("leaving.user")
    async with gateway() as client:
        by_refresh = await sign_in(client, "leaving.user")
        by_bearer = await sign_in(client, "leaving.user")
        out = await client.post(
            "/api/v1/auth/logout", json={"refresh_token": by_refresh["refresh_token"]}
        )
        assert out.status_code == 204
        out = await client.post("/api/v1/auth/logout", headers=bearer(by_bearer["access_token"]))
        assert out.status_code == 204
        for pair in (by_refresh, by_bearer):
            me = await client.get("/api/v1/auth/me", headers=bearer(pair["access_token"]))
            assert (me.status_code, me.json()["code"]) == (401, "session_revoked")
            again = await refresh(client, pair["refresh_token"])
            assert (again.status_code, again.json()["code"]) == (401, "session_revoked")
        # Logging out twice is no error.
        twice = await client.post(
            "/api/v1/auth/logout", json={"refresh_token": by_refresh["refresh_token"]}
        )
        assert twice.status_code == 204


async def test_refresh_issues_the_accounts_current_role_and_org(
    gateway: Any, add_account: Callable[..., Any], session_factory: Callable[[], AsyncSession]
) -> None:
    account = await add_account("moving.admin", org_path=LIXIA_SCHOOL)
    async with gateway() as client:
        first = await sign_in(client, "moving.admin")
        async with session_factory() as session, session.begin():
            await session.execute(
                text("UPDATE gateway.accounts SET org_path = :path WHERE id = :id"),
                {"path": list(OTHER_SCHOOL), "id": account.id},
            )
        answer = await refresh(client, first["refresh_token"])
    assert answer.status_code == 200, answer.text
    assert answer.json()["org_path"] == list(OTHER_SCHOOL)
    claims = jwt.decode(answer.json()["access_token"], options={"verify_signature": False})
    assert claims["org"] == list(OTHER_SCHOOL)


async def test_refresh_is_refused_once_the_account_is_disabled_or_its_sessions_cut(
    gateway: Any, add_account: Callable[..., Any], session_factory: Callable[[], AsyncSession]
) -> None:
    disabled = await add_account("disabled.later")
    reset = await add_account("password.reset")
    async with gateway() as client:
        first = await sign_in(client, "disabled.later")
        second = await sign_in(client, "password.reset")
        async with session_factory() as session, session.begin():
            await session.execute(
                text("UPDATE gateway.accounts SET active = false WHERE id = :id"),
                {"id": disabled.id},
            )
            await session.execute(
                text("UPDATE gateway.accounts SET tokens_valid_after = now() WHERE id = :id"),
                {"id": reset.id},
            )
        for pair in (first, second):
            answer = await refresh(client, pair["refresh_token"])
            assert (answer.status_code, answer.json()["code"]) == (401, "session_revoked")
        # A new sign-in after the cut starts a family that refreshes.
        fresh = await sign_in(client, "password.reset")
        assert (await refresh(client, fresh["refresh_token"])).status_code == 200
        assert (
            await client.post(
                "/api/v1/auth/token", json={"username": "disabled.later", "password": PASSWORD}
            )
        ).status_code == 401


# --- the gateway refuses tokens whose session ended, within a minute ------------------------


async def test_disabling_an_account_in_the_database_ends_its_proxied_requests_within_a_minute(
    gateway: Any,
    add_account: Callable[..., Any],
    session_factory: Callable[[], AsyncSession],
    upstream_url: str,
) -> None:
    account = await add_account("soon.disabled")
    other = await add_account("still.active")
    async with gateway(enrollment_url=upstream_url) as client:
        token = (await sign_in(client, "soon.disabled"))["access_token"]
        kept = (await sign_in(client, "still.active"))["access_token"]
        path = "/api/v1/enrollment/echo/plans"
        assert (await client.get(path, headers=bearer(token))).status_code == 200
        # Straight in the database, as any tool or another gateway process might.
        async with session_factory() as session, session.begin():
            await session.execute(
                text("UPDATE gateway.accounts SET active = false WHERE id = :id"),
                {"id": account.id},
            )
        started = time.monotonic()

        async def refused() -> Any:
            answer = await client.get(path, headers=bearer(token))
            return answer if answer.status_code == 401 else None

        answer = await eventually(refused, timeout=60, interval=0.25)
        assert time.monotonic() - started < 60
        assert answer.headers["content-type"] == "application/problem+json"
        assert answer.json()["code"] == "session_revoked"
        assert (await client.get("/api/v1/auth/me", headers=bearer(token))).status_code == 401
        # Others carry on.
        assert (await client.get(path, headers=bearer(kept))).status_code == 200
    assert other.active


async def test_a_token_issued_before_tokens_valid_after_is_refused_and_one_after_passes(
    gateway: Any,
    add_account: Callable[..., Any],
    session_factory: Callable[[], AsyncSession],
    upstream_url: str,
) -> None:
    account = await add_account("cut.sessions")
    async with gateway(enrollment_url=upstream_url, session_poll_seconds=0.2) as client:
        old = (await sign_in(client, "cut.sessions"))["access_token"]
        async with session_factory() as session, session.begin():
            await session.execute(
                text("UPDATE gateway.accounts SET tokens_valid_after = now() WHERE id = :id"),
                {"id": account.id},
            )
        new = (await sign_in(client, "cut.sessions"))["access_token"]  # the same second, maybe

        async def old_refused() -> bool:
            answer = await client.get("/api/v1/enrollment/echo/x", headers=bearer(old))
            return answer.status_code == 401

        await eventually(old_refused, timeout=10)
        assert (
            await client.get("/api/v1/enrollment/echo/x", headers=bearer(new))
        ).status_code == 200


async def test_a_logout_is_refused_at_once_on_the_proxy(
    gateway: Any, add_account: Callable[..., Any], upstream_url: str
) -> None:
    await add_account("quick.logout")
    async with gateway(enrollment_url=upstream_url, session_poll_seconds=30) as client:
        pair = await sign_in(client, "quick.logout")
        assert (
            await client.get("/api/v1/enrollment/echo/x", headers=bearer(pair["access_token"]))
        ).status_code == 200
        await client.post("/api/v1/auth/logout", headers=bearer(pair["access_token"]))
        answer = await client.get("/api/v1/enrollment/echo/x", headers=bearer(pair["access_token"]))
    assert (answer.status_code, answer.json()["code"]) == (401, "session_revoked")


async def test_a_token_older_than_the_access_token_lifetime_is_refused(
    gateway: Any, keypair: tuple[str, str], upstream_url: str
) -> None:
    # Signed by the gateway's key under an older, longer lifetime.
    now = time.time()
    (public,) = load_public_keys(keypair[1])
    claims = {
        "iss": "yanxiu",
        "sub": str(uuid.uuid4()),
        "role": "teacher",
        "org": list(LIXIA_SCHOOL),
        "iat": now - 3 * 3600,
        "exp": int(now) + 5 * 3600,
    }
    token = jwt.encode(claims, keypair[0], algorithm="EdDSA", headers={"kid": key_id(public)})
    async with gateway(enrollment_url=upstream_url) as client:
        proxied = await client.get("/api/v1/enrollment/echo/x", headers=bearer(token))
        own = await client.get("/api/v1/auth/me", headers=bearer(token))
    for answer in (proxied, own):
        assert (answer.status_code, answer.json()["code"]) == (401, "token_expired")


async def test_tokens_that_do_not_verify_are_left_to_the_service(
    gateway: Any, upstream_url: str
) -> None:
    async with gateway(enrollment_url=upstream_url) as client:
        answer = await client.get("/api/v1/enrollment/echo/x", headers=bearer("not.a.token"))
    assert answer.status_code == 200  # the echo service does not check; real ones do
