"""Sign-in resists guessing without locking real users out: failures throttle the client that
made them (429 + Retry-After), never the account; argon2 work is bounded and holds no database
connection, so a login storm gets 401s and 429s, never a 5xx."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Callable
from typing import Any

import httpx

from gateway.main import create_app
from gateway.throttle import SignInThrottle
from yanxiu.testing import app_client

PASSWORD = "研修-Passw0rd!"


@contextlib.asynccontextmanager
async def two_clients(app: Any) -> AsyncIterator[tuple[httpx.AsyncClient, httpx.AsyncClient]]:
    """Clients A and B of one running gateway, from two addresses."""
    async with app_client(app) as a:
        transport = httpx.ASGITransport(app=app, client=("10.0.0.2", 40000))
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as b:
            yield a, b


def login(username: str, password: str) -> dict[str, str]:
    return {"username": username, "password": password}


async def test_wrong_passwords_from_one_client_never_stop_the_real_user_on_another(
    make_settings: Callable[..., Any], add_account: Callable[..., Any]
) -> None:
    await add_account("guessed.user")
    app = create_app(make_settings())
    async with two_clients(app) as (a, b):
        tries = [
            await a.post("/api/v1/auth/token", json=login("guessed.user", f"guess-{i}"))
            for i in range(6)
        ]
        assert [t.status_code for t in tries] == [401] * 5 + [429]
        real_user = await b.post("/api/v1/auth/token", json=login("guessed.user", PASSWORD))
        assert real_user.status_code == 200, real_user.text
        # The guesser waits, even with the right password, and is told how long.
        held = await a.post("/api/v1/auth/token", json=login("guessed.user", PASSWORD))
    assert held.status_code == 429
    assert held.headers["content-type"] == "application/problem+json"
    assert held.json()["code"] == "sign_in_throttled"
    assert 1 <= int(held.headers["retry-after"]) <= 15 * 60


async def test_one_client_guessing_many_usernames_is_throttled(
    make_settings: Callable[..., Any],
) -> None:
    app = create_app(make_settings(login_failures_per_client=4))
    async with two_clients(app) as (a, b):
        answers = [
            await a.post("/api/v1/auth/token", json=login(f"nobody-{i}", "x")) for i in range(5)
        ]
        elsewhere = await b.post("/api/v1/auth/token", json=login("nobody-9", "x"))
    assert [r.status_code for r in answers] == [401] * 4 + [429]
    assert "retry-after" in answers[-1].headers
    assert elsewhere.status_code == 401  # another client is not held back


def test_the_per_username_limit_holds_back_only_clients_that_failed_for_it() -> None:
    now = [0.0]
    throttle = SignInThrottle(
        per_client_and_user=5, per_client=100, per_user=3, window=600, clock=lambda: now[0]
    )
    for client in ("10.0.0.1", "10.0.0.2", "10.0.0.3"):
        throttle.failed("teacher.li", client)
    assert throttle.retry_after("teacher.li", "10.0.0.1") == 600  # failed before: waits
    assert throttle.retry_after("teacher.li", "10.9.9.9") == 0  # never failed: the real user
    now[0] += 601
    assert throttle.retry_after("teacher.li", "10.0.0.1") == 0  # the window has passed


async def test_sixty_concurrent_logins_of_unknown_users_get_no_5xx(
    make_settings: Callable[..., Any], add_account: Callable[..., Any]
) -> None:
    await add_account("storm.survivor")
    # A small pool: argon2 must not hold its connections.
    app = create_app(make_settings(db_pool_size=2))
    async with two_clients(app) as (storm_client, real_user):
        storm = [
            storm_client.post("/api/v1/auth/token", json=login(f"unknown-{i}", "wrong password"))
            for i in range(60)
        ]
        answers = await asyncio.gather(*storm)
        after = await real_user.post("/api/v1/auth/token", json=login("storm.survivor", PASSWORD))
    statuses = {a.status_code for a in answers}
    assert statuses <= {200, 401, 429}, statuses
    assert 401 in statuses
    for answer in answers:
        assert answer.headers["content-type"].startswith("application/")
        if answer.status_code == 429:
            assert int(answer.headers["retry-after"]) >= 1
    assert after.status_code == 200, after.text  # the storm held back only its own client


async def test_sign_ins_past_the_hashing_queue_are_429_with_retry_after(
    make_settings: Callable[..., Any],
) -> None:
    app = create_app(make_settings(password_workers=1, password_queue=1))
    async with app_client(app) as client:
        answers = await asyncio.gather(
            *(client.post("/api/v1/auth/token", json=login(f"queued-{i}", "x")) for i in range(8))
        )
    busy = [a for a in answers if a.status_code == 429]
    assert busy and {a.json()["code"] for a in busy} == {"sign_in_busy"}
    assert all(int(a.headers["retry-after"]) >= 1 for a in busy)
    assert sum(a.status_code == 401 for a in answers) >= 2


async def test_forwarded_for_names_the_client_only_when_trusted(
    make_settings: Callable[..., Any],
) -> None:
    async def failures(trusted: bool) -> list[int]:
        app = create_app(
            make_settings(trust_forwarded_for=trusted, login_failures_per_client_and_user=1)
        )
        async with app_client(app) as client:
            return [
                (
                    await client.post(
                        "/api/v1/auth/token",
                        json=login("someone", "x"),
                        headers={"X-Forwarded-For": f"203.0.113.{i}"},
                    )
                ).status_code
                for i in range(2)
            ]

    assert await failures(trusted=True) == [401, 401]  # two clients behind a trusted proxy
    assert await failures(trusted=False) == [401, 429]  # a forged header changes nothing


async def test_behind_the_proxy_the_client_is_the_address_the_proxy_appended(
    make_settings: Callable[..., Any],
) -> None:
    app = create_app(make_settings(trust_forwarded_for=True, login_failures_per_client_and_user=1))
    async with app_client(app) as client:
        statuses = [
            (
                await client.post(
                    "/api/v1/auth/token",
                    json=login("someone", "x"),
                    # The client forges the first entry; the proxy appends what it saw.
                    headers={"X-Forwarded-For": f"198.51.100.{i}, 203.0.113.7"},
                )
            ).status_code
            for i in range(2)
        ]
    assert statuses == [401, 429]


async def test_inactive_accounts_cannot_sign_in(
    gateway: Any, add_account: Callable[..., Any]
) -> None:
    await add_account("gone", active=False)
    async with gateway() as client:
        answer = await client.post("/api/v1/auth/token", json=login("gone", PASSWORD))
    assert (answer.status_code, answer.json()["code"]) == (401, "invalid_credentials")


async def test_a_deeply_nested_body_is_a_4xx_never_a_500(gateway: Any) -> None:
    async with gateway() as client:
        nested = await client.post(
            "/api/v1/auth/token",
            content=b"[" * 10_000,
            headers={"content-type": "application/json"},
        )
        huge_nested = await client.post(
            "/api/v1/auth/token",
            content=b"[" * 100_000,
            headers={"content-type": "application/json"},
        )
    for answer in (nested, huge_nested):
        assert answer.status_code == 422, answer.text
        assert answer.json()["code"] == "validation_failed"
