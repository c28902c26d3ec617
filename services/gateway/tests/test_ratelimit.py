"""Rate limits: a token bucket per caller; 429 problem+json with Retry-After past it."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import jwt

from gateway.ratelimit import TokenBuckets


def test_token_bucket_allows_the_burst_then_refills_at_the_rate() -> None:
    now = [100.0]
    buckets = TokenBuckets(rate=2.0, burst=3, clock=lambda: now[0])
    assert [buckets.take("k") for _ in range(3)] == [0.0, 0.0, 0.0]
    assert buckets.take("k") == 0.5  # one token takes half a second at 2/s
    now[0] += 0.5
    assert buckets.take("k") == 0.0
    assert buckets.take("other") == 0.0  # every caller has its own bucket


def test_token_bucket_forgets_idle_callers_when_full() -> None:
    now = [0.0]
    buckets = TokenBuckets(rate=1.0, burst=1, clock=lambda: now[0], max_keys=2)
    buckets.take("a")
    buckets.take("b")
    now[0] += 5
    buckets.take("c")
    assert len(buckets._buckets) <= 2


async def test_rate_limit_answers_429_with_retry_after(gateway: Any, upstream_url: str) -> None:
    async with gateway(
        enrollment_url=upstream_url, rate_limit_per_second=0.5, rate_limit_burst=2
    ) as client:
        answers = [await client.get("/api/v1/enrollment/echo/x") for _ in range(3)]
    assert [a.status_code for a in answers] == [200, 200, 429]
    limited = answers[2]
    assert limited.headers["content-type"] == "application/problem+json"
    assert limited.json()["code"] == "rate_limited"
    assert "请求过于频繁" in limited.json()["detail"]
    assert int(limited.headers["retry-after"]) == 2  # one token at 0.5/s
    assert limited.headers["x-request-id"]


async def test_rate_limit_keys_on_the_token_user_not_the_address(
    gateway: Any, upstream_url: str, token_for: Callable[..., str]
) -> None:
    alice = {"Authorization": f"Bearer {token_for('teacher', ['370000'], user_id='alice')}"}
    bob = {"Authorization": f"Bearer {token_for('teacher', ['370000'], user_id='bob')}"}
    async with gateway(
        enrollment_url=upstream_url, rate_limit_per_second=0.1, rate_limit_burst=1
    ) as client:
        first_alice = await client.get("/api/v1/enrollment/echo/x", headers=alice)
        second_alice = await client.get("/api/v1/enrollment/echo/x", headers=alice)
        first_bob = await client.get("/api/v1/enrollment/echo/x", headers=bob)
    assert (first_alice.status_code, second_alice.status_code) == (200, 429)
    assert first_bob.status_code == 200  # same address, another user


async def test_forged_tokens_do_not_escape_the_address_limit(
    gateway: Any, upstream_url: str
) -> None:
    def forged(sub: str) -> dict[str, str]:
        token = jwt.encode({"sub": sub, "iss": "yanxiu"}, "k" * 32, algorithm="HS256")
        return {"Authorization": f"Bearer {token}"}

    async with gateway(
        enrollment_url=upstream_url, rate_limit_per_second=0.1, rate_limit_burst=1
    ) as client:
        first = await client.get("/api/v1/enrollment/echo/x", headers=forged("a"))
        second = await client.get("/api/v1/enrollment/echo/x", headers=forged("b"))
    assert (first.status_code, second.status_code) == (200, 429)


async def test_health_readiness_and_docs_are_exempt_from_rate_limits(gateway: Any) -> None:
    async with gateway(rate_limit_per_second=0.1, rate_limit_burst=1) as client:
        for _ in range(3):
            for path in ("/healthz", "/readyz", "/openapi.json", "/docs"):
                assert (await client.get(path)).status_code != 429, path
        assert (await client.get("/api/v1/auth/me")).status_code == 401
        assert (await client.get("/api/v1/auth/me")).status_code == 429
