"""Rate limits: a token bucket per caller; 429 problem+json with Retry-After past it."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from typing import Any

import jwt
from prometheus_client import REGISTRY

from gateway.ratelimit import TokenBuckets
from yanxiu.testing import free_port


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


async def test_gateways_sharing_redis_draw_on_one_bucket_per_caller(
    gateway: Any, upstream_url: str, token_for: Callable[..., str], redis_url: str
) -> None:
    """Two gateways behind one load balancer: a caller's requests alternate between them, and
    together they get the one burst, not one each."""
    user = f"shared-{uuid.uuid4().hex[:8]}"
    auth = {"Authorization": f"Bearer {token_for('teacher', ['370000'], user_id=user)}"}
    limits = {
        "rate_limit_per_second": 0.2,
        "rate_limit_burst": 3,
        "rate_limit_redis_url": redis_url,
    }
    async with (
        gateway(enrollment_url=upstream_url, **limits) as first,
        gateway(enrollment_url=upstream_url, **limits) as second,
    ):
        answers = [
            await client.get("/api/v1/enrollment/echo/x", headers=auth)
            for client in (first, second, first, second, first)
        ]
    assert [a.status_code for a in answers] == [200, 200, 200, 429, 429]
    assert int(answers[3].headers["retry-after"]) >= 1


async def test_an_unreachable_rate_limit_store_lets_requests_through_and_says_so(
    gateway: Any, upstream_url: str
) -> None:
    before = (
        REGISTRY.get_sample_value("yanxiu_rate_limit_unavailable_total", {"service": "gateway"})
        or 0.0
    )
    async with gateway(
        enrollment_url=upstream_url,
        rate_limit_per_second=0.1,
        rate_limit_burst=1,
        rate_limit_redis_url=f"redis://127.0.0.1:{free_port()}/0",
    ) as client:
        answers = [await client.get("/api/v1/enrollment/echo/x") for _ in range(3)]
    assert [a.status_code for a in answers] == [200, 200, 200]
    after = REGISTRY.get_sample_value("yanxiu_rate_limit_unavailable_total", {"service": "gateway"})
    assert after == before + 3
