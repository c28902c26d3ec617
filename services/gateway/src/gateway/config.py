"""Settings of the gateway (env prefix GATEWAY_, shared names such as DATABASE_URL unprefixed)."""

from __future__ import annotations

from typing import Literal

from pydantic import Field
from pydantic_settings import SettingsConfigDict

from yanxiu.kit.settings import KitSettings

SERVICES = ("enrollment", "learning", "credits", "lessons", "insights")
"""The services behind the gateway, reachable under /api/v1/<service>/."""


class GatewaySettings(KitSettings):
    model_config = SettingsConfigDict(env_prefix="GATEWAY_", extra="ignore")

    service_name: str = "gateway"

    # The Ed25519 signing key (PEM, PKCS#8); services are given the matching public key.
    jwt_private_key: str = ""
    jwt_private_key_file: str = ""
    # Public keys signed with before the current one (PEM blocks), still trusted and listed in
    # the JWKS until the tokens they signed have expired: a key rotates without logging out.
    jwt_previous_public_keys: str = ""
    jwt_previous_public_keys_file: str = ""
    # Access tokens are short; the gateway accepts none older than this (its revocation view
    # need remember no longer). Refresh tokens rotate on every use and lapse unused after theirs.
    token_ttl_seconds: int = Field(default=15 * 60, ge=60, le=24 * 3600)
    refresh_token_ttl_seconds: int = Field(default=30 * 24 * 3600, ge=300)
    # How often the gateway re-reads ended sessions and accounts from the database.
    session_poll_seconds: float = Field(default=5.0, gt=0, le=50)

    enrollment_url: str = "http://127.0.0.1:8101"
    learning_url: str = "http://127.0.0.1:8102"
    credits_url: str = "http://127.0.0.1:8103"
    lessons_url: str = "http://127.0.0.1:8104"
    insights_url: str = "http://127.0.0.1:8105"
    upstream_timeout_seconds: float = Field(default=30.0, gt=0)
    upstream_connect_timeout_seconds: float = Field(default=3.0, gt=0)
    upstream_max_connections: int = Field(default=200, ge=1)
    # Admission control (yanxiu.kit.admission), GATEWAY_MAX_INFLIGHT_REQUESTS: twice a
    # service's 64, as the gateway's own work per request is small (a token check, a forward)
    # and a request in flight here is mostly one in flight behind it, spread over four services
    # that each refuse their own excess (those 503s pass through, with their Retry-After).
    max_inflight_requests: int = Field(default=128, ge=1)
    # The gateway's access log has every request (the services behind it log errors only).
    access_log: Literal["all", "errors"] = "all"
    # /readyz asks every service; a slow one must not hold it up.
    probe_timeout_seconds: float = Field(default=2.0, gt=0)
    # Opening an account asks enrollment whether the org and teacher exist (a 503 past this).
    enrollment_timeout_seconds: float = Field(default=5.0, gt=0)

    # Token bucket per caller (user id from a valid bearer token, else client IP).
    rate_limit_per_second: float = Field(default=20.0, gt=0)
    rate_limit_burst: int = Field(default=40, ge=1)
    rate_limit_enabled: bool = True
    # Redis (redis://host:6379/0) holding the buckets, so that every gateway replica draws on
    # one per caller; empty: each process keeps its own (one gateway only).
    rate_limit_redis_url: str = ""
    # Only behind a proxy that sets X-Forwarded-For itself; otherwise clients could forge it.
    trust_forwarded_for: bool = False

    # Sign-in: argon2 runs on this many threads, with at most this many sign-ins waiting
    # (past it, 429). Failures are counted per (username, client), per client and per
    # username, each over the window; past a limit that client waits (429 + Retry-After).
    # The per-username limit only holds back clients that have already failed for it.
    password_workers: int = Field(default=2, ge=1, le=64)
    password_queue: int = Field(default=32, ge=0, le=10_000)
    login_failure_window_seconds: int = Field(default=15 * 60, ge=1)
    login_failures_per_client_and_user: int = Field(default=5, ge=1)
    login_failures_per_client: int = Field(default=30, ge=1)
    login_failures_per_user: int = Field(default=20, ge=1)

    # Request bodies: 413 past the limit of the longest matching path prefix, else the default.
    body_limit_bytes: int = Field(default=1 << 20, ge=0)
    body_limits: dict[str, int] = Field(
        default_factory=lambda: {
            "/api/v1/enrollment/teachers/import": 20 << 20,
            "/api/v1/learning/xapi/statements": 10 << 20,
        }
    )
    # The gateway's own /metrics answers only `Authorization: Bearer <this>`; unset, it is 404.
    metrics_token: str = ""
    # The built admins' dashboard (web/dashboard/dist) served at /dashboard/; empty: the one
    # of the repository the gateway runs from (gateway.dashboard.default_dist_dir).
    dashboard_dir: str = ""

    def upstreams(self) -> dict[str, str]:
        """Base URL of each service, without a trailing slash."""
        return {name: str(getattr(self, f"{name}_url")).rstrip("/") for name in SERVICES}

    def previous_public_keys_pem(self) -> str:
        if self.jwt_previous_public_keys:
            return self.jwt_previous_public_keys
        if self.jwt_previous_public_keys_file:
            with open(self.jwt_previous_public_keys_file, encoding="utf-8") as fh:
                return fh.read()
        return ""

    def private_key_pem(self) -> str:
        if self.jwt_private_key:
            return self.jwt_private_key
        if self.jwt_private_key_file:
            with open(self.jwt_private_key_file, encoding="utf-8") as fh:
                return fh.read()
        return ""
