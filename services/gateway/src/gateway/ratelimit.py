"""Rate limits (限流): a token bucket per caller, in this process's memory, or in Redis when
several gateways share the limit (gateway.ratelimit_shared, `GATEWAY_RATE_LIMIT_REDIS_URL`).
The caller is the user of a valid bearer token, else the client's IP address."""

from __future__ import annotations

import math
import time
from collections.abc import Callable

from starlette.types import ASGIApp, Receive, Scope, Send

from gateway.errors import RateLimited
from gateway.ratelimit_shared import SharedTokenBuckets
from yanxiu.kit.auth import TokenVerifier
from yanxiu.kit.errors import DomainError, render_domain_error

EXEMPT_PATHS = frozenset(
    {"/healthz", "/readyz", "/metrics", "/openapi.json", "/docs", "/docs/oauth2-redirect"}
)


class TokenBuckets:
    """令牌桶: each key refills at `rate` tokens a second up to `burst`; a request takes one."""

    def __init__(
        self,
        *,
        rate: float,
        burst: int,
        clock: Callable[[], float] = time.monotonic,
        max_keys: int = 100_000,
    ) -> None:
        self.rate = rate
        self.burst = float(burst)
        self.clock = clock
        self.max_keys = max_keys
        self._buckets: dict[str, tuple[float, float]] = {}  # key -> (tokens, updated at)

    def take(self, key: str) -> float:
        """Takes a token: 0.0 when granted, else the seconds until one is available."""
        now = self.clock()
        tokens, updated = self._buckets.get(key, (self.burst, now))
        tokens = min(self.burst, tokens + (now - updated) * self.rate)
        if tokens >= 1.0:
            if key not in self._buckets and len(self._buckets) >= self.max_keys:
                self._forget_idle(now)
            self._buckets[key] = (tokens - 1.0, now)
            return 0.0
        self._buckets[key] = (tokens, now)
        return (1.0 - tokens) / self.rate

    def _forget_idle(self, now: float) -> None:
        # A bucket idle long enough to be full again is the same as no bucket.
        full_after = self.burst / self.rate
        for key in [k for k, (_, at) in self._buckets.items() if now - at >= full_after]:
            del self._buckets[key]
        while len(self._buckets) >= self.max_keys:
            del self._buckets[next(iter(self._buckets))]


def _header(scope: Scope, name: bytes) -> str:
    for key, value in scope["headers"]:
        if key == name:
            return str(value.decode("latin-1"))
    return ""


def client_ip(scope: Scope, *, trust_forwarded_for: bool) -> str:
    """The peer address, or behind the trusted proxy the address that proxy saw: the last entry
    of X-Forwarded-For (a proxy appends its peer; entries before it are the client's to forge)."""
    if trust_forwarded_for:
        forwarded = _header(scope, b"x-forwarded-for").split(",")[-1].strip()
        if forwarded:
            return forwarded
    client = scope.get("client")
    return str(client[0]) if client else "unknown"


class RateLimiter:
    def __init__(
        self,
        buckets: TokenBuckets | SharedTokenBuckets,
        verifier: TokenVerifier,
        *,
        trust_forwarded_for: bool,
    ) -> None:
        self.buckets = buckets
        self.verifier = verifier
        self.trust_forwarded_for = trust_forwarded_for

    def caller_key(self, scope: Scope) -> str:
        scheme, _, token = _header(scope, b"authorization").partition(" ")
        if scheme.lower() == "bearer" and token:
            try:
                return f"user:{self.verifier.verify(token.strip()).user_id}"
            except DomainError:
                pass  # a bad token is the service's to refuse; limit it by address
        return f"ip:{client_ip(scope, trust_forwarded_for=self.trust_forwarded_for)}"

    async def retry_after(self, scope: Scope) -> int:
        """0 when the request may pass, else whole seconds to wait (at least 1)."""
        key = self.caller_key(scope)
        buckets = self.buckets
        wait = (
            await buckets.take(key)
            if isinstance(buckets, SharedTokenBuckets)
            else buckets.take(key)
        )
        return max(1, math.ceil(wait)) if wait > 0 else 0


class RateLimitMiddleware:
    """Answers 429 problem+json with Retry-After before the request reaches a route. The limiter
    is the running app's (`app.state.runtime.limiter`), built in the lifespan."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"] in EXEMPT_PATHS:
            await self.app(scope, receive, send)
            return
        runtime = getattr(scope["app"].state, "runtime", None)
        limiter: RateLimiter | None = getattr(runtime, "limiter", None)
        if limiter is not None:
            wait = await limiter.retry_after(scope)
            if wait:
                response = render_domain_error(RateLimited(wait), scope["path"])
                await response(scope, receive, send)
                return
        await self.app(scope, receive, send)
