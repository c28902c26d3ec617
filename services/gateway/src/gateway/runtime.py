"""What the running gateway holds, built in the lifespan; lives on `app.state.runtime`."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated, cast

import httpx
from fastapi import Depends, Request
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from gateway.config import GatewaySettings
from gateway.openapi import MergedOpenAPI
from gateway.proxy import make_client, make_pools
from gateway.ratelimit import RateLimiter, TokenBuckets
from gateway.tokens import TokenIssuer, public_key_pem
from gateway.upstream import Pools
from yanxiu.kit.auth import TokenVerifier
from yanxiu.kit.db import make_engine, make_session_factory


@dataclass
class GatewayRuntime:
    # `session_factory` and `verifier` are the names yanxiu.kit.deps reads, so the kit's
    # Session and CurrentUser dependencies work on the gateway too.
    settings: GatewaySettings
    engine: AsyncEngine
    session_factory: async_sessionmaker[AsyncSession]
    http: httpx.AsyncClient
    pools: Pools
    issuer: TokenIssuer
    verifier: TokenVerifier
    limiter: RateLimiter | None
    openapi: MergedOpenAPI
    upstreams: dict[str, str]


def build_runtime(settings: GatewaySettings) -> GatewayRuntime:
    private_pem = settings.private_key_pem()
    verifier = TokenVerifier(public_key_pem(private_pem), issuer=settings.jwt_issuer)
    engine = make_engine(settings.database_url, pool_size=settings.db_pool_size)
    buckets = TokenBuckets(rate=settings.rate_limit_per_second, burst=settings.rate_limit_burst)
    return GatewayRuntime(
        settings=settings,
        engine=engine,
        session_factory=make_session_factory(engine),
        http=make_client(settings),
        pools=make_pools(settings),
        issuer=TokenIssuer(
            private_key_pem=private_pem,
            issuer=settings.jwt_issuer,
            ttl_seconds=settings.token_ttl_seconds,
        ),
        verifier=verifier,
        limiter=(
            RateLimiter(buckets, verifier, trust_forwarded_for=settings.trust_forwarded_for)
            if settings.rate_limit_enabled
            else None
        ),
        openapi=MergedOpenAPI(ttl=settings.openapi_cache_seconds),
        upstreams=settings.upstreams(),
    )


async def close_runtime(rt: GatewayRuntime) -> None:
    await rt.http.aclose()
    await rt.pools.close()
    await rt.engine.dispose()


async def gateway_runtime(request: Request) -> GatewayRuntime:
    return cast(GatewayRuntime, request.app.state.runtime)


Runtime = Annotated[GatewayRuntime, Depends(gateway_runtime)]
