"""What the running gateway holds, built in the lifespan; lives on `app.state.runtime`."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from typing import Annotated, cast

import httpx
from fastapi import Depends, Request
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from gateway.config import GatewaySettings
from gateway.hashing import PasswordHashing
from gateway.keys import SigningKeys
from gateway.limits import BodyLimits
from gateway.proxy import make_client, make_pools
from gateway.ratelimit import RateLimiter, TokenBuckets
from gateway.ratelimit_shared import SharedTokenBuckets
from gateway.sessions.housekeeping import lapsed_session_jobs
from gateway.sessions.view import GatewayVerifier, SessionView, keep_fresh, read_once
from gateway.signin import SignIn
from gateway.throttle import SignInThrottle
from gateway.tokens import TokenIssuer
from gateway.upstream import Pools
from yanxiu.kit.db import make_engine, make_read_session_factory, make_session_factory
from yanxiu.kit.housekeeping import start_housekeeping
from yanxiu.kit.pool_metrics import watch_pools


@dataclass
class GatewayRuntime:
    # `session_factory` and `verifier` are the names yanxiu.kit.deps reads, so the kit's
    # Session and CurrentUser dependencies work on the gateway too.
    settings: GatewaySettings
    engine: AsyncEngine
    session_factory: async_sessionmaker[AsyncSession]
    read_session_factory: async_sessionmaker[AsyncSession]
    http: httpx.AsyncClient
    pools: Pools
    issuer: TokenIssuer
    verifier: GatewayVerifier
    limiter: RateLimiter | None
    upstreams: dict[str, str]
    # Sign-in, sessions and keys (gateway.signin, gateway.sessions, gateway.keys).
    keys: SigningKeys
    sessions: SessionView
    sign_in: SignIn
    body_limits: BodyLimits
    background: list[asyncio.Task[None]] = field(default_factory=list)


def build_runtime(settings: GatewaySettings) -> GatewayRuntime:
    keys = SigningKeys.from_settings(settings)
    view = SessionView(token_ttl_seconds=settings.token_ttl_seconds)
    verifier = GatewayVerifier(keys.trusted_pem(), issuer=settings.jwt_issuer, view=view)
    engine = make_engine(
        settings.database_url,
        pool_size=settings.db_pool_size,
        connect_timeout=settings.db_connect_timeout,
        pool_timeout=settings.db_pool_timeout,
    )
    watch_pools("gateway", engine)
    session_factory = make_session_factory(engine)
    buckets: TokenBuckets | SharedTokenBuckets = (
        SharedTokenBuckets(
            settings.rate_limit_redis_url,
            rate=settings.rate_limit_per_second,
            burst=settings.rate_limit_burst,
        )
        if settings.rate_limit_redis_url
        else TokenBuckets(rate=settings.rate_limit_per_second, burst=settings.rate_limit_burst)
    )
    issuer = TokenIssuer(
        private_key_pem=keys.private_key_pem,
        issuer=settings.jwt_issuer,
        ttl_seconds=settings.token_ttl_seconds,
        kid=keys.kid,
    )
    return GatewayRuntime(
        settings=settings,
        engine=engine,
        session_factory=session_factory,
        read_session_factory=make_read_session_factory(engine),
        http=make_client(settings),
        pools=make_pools(settings),
        issuer=issuer,
        verifier=verifier,
        limiter=(
            RateLimiter(buckets, verifier, trust_forwarded_for=settings.trust_forwarded_for)
            if settings.rate_limit_enabled
            else None
        ),
        upstreams=settings.upstreams(),
        keys=keys,
        sessions=view,
        sign_in=SignIn(
            session_factory=session_factory,
            passwords=PasswordHashing(
                workers=settings.password_workers, queue=settings.password_queue
            ),
            throttle=SignInThrottle(
                per_client_and_user=settings.login_failures_per_client_and_user,
                per_client=settings.login_failures_per_client,
                per_user=settings.login_failures_per_user,
                window=settings.login_failure_window_seconds,
            ),
            issuer=issuer,
            refresh_ttl=settings.refresh_token_ttl_seconds,
        ),
        body_limits=BodyLimits(settings.body_limit_bytes, settings.body_limits),
    )


async def start_runtime(rt: GatewayRuntime) -> None:
    """Reads the ended sessions once before the first request, then keeps them fresh."""
    await read_once(rt.sessions, rt.session_factory)
    rt.background.append(
        asyncio.create_task(
            keep_fresh(rt.sessions, rt.session_factory, every=rt.settings.session_poll_seconds),
            name="gateway-sessions",
        )
    )
    housekeeping = start_housekeeping(
        rt.settings, schema="gateway", tables=["inbox"], extra=lapsed_session_jobs()
    )
    if housekeeping is not None:
        rt.background.append(housekeeping)


async def close_runtime(rt: GatewayRuntime) -> None:
    for task in rt.background:
        task.cancel()
    await asyncio.gather(*rt.background, return_exceptions=True)
    rt.sign_in.passwords.close()
    await rt.http.aclose()
    if rt.limiter is not None and isinstance(rt.limiter.buckets, SharedTokenBuckets):
        await rt.limiter.buckets.close()
    await rt.pools.close()
    await rt.engine.dispose()


async def gateway_runtime(request: Request) -> GatewayRuntime:
    return cast(GatewayRuntime, request.app.state.runtime)


Runtime = Annotated[GatewayRuntime, Depends(gateway_runtime)]
