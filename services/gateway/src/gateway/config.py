"""Settings of the gateway (env prefix GATEWAY_, shared names such as DATABASE_URL unprefixed)."""

from __future__ import annotations

from pydantic import Field
from pydantic_settings import SettingsConfigDict

from yanxiu.kit.settings import KitSettings

SERVICES = ("enrollment", "learning", "credits", "lessons")
"""The services behind the gateway, reachable under /api/v1/<service>/."""


class GatewaySettings(KitSettings):
    model_config = SettingsConfigDict(env_prefix="GATEWAY_", extra="ignore")

    service_name: str = "gateway"

    # The Ed25519 signing key (PEM, PKCS#8); services are given the matching public key.
    jwt_private_key: str = ""
    jwt_private_key_file: str = ""
    token_ttl_seconds: int = Field(default=8 * 3600, ge=60)

    enrollment_url: str = "http://127.0.0.1:8101"
    learning_url: str = "http://127.0.0.1:8102"
    credits_url: str = "http://127.0.0.1:8103"
    lessons_url: str = "http://127.0.0.1:8104"
    upstream_timeout_seconds: float = Field(default=30.0, gt=0)
    upstream_connect_timeout_seconds: float = Field(default=3.0, gt=0)
    upstream_max_connections: int = Field(default=200, ge=1)
    # /readyz and the merged OpenAPI ask every service; a slow one must not hold them up.
    probe_timeout_seconds: float = Field(default=2.0, gt=0)
    openapi_cache_seconds: float = Field(default=30.0, ge=0)

    # Token bucket per caller (user id from a valid bearer token, else client IP).
    rate_limit_per_second: float = Field(default=20.0, gt=0)
    rate_limit_burst: int = Field(default=40, ge=1)
    rate_limit_enabled: bool = True
    # Only behind a proxy that sets X-Forwarded-For itself; otherwise clients could forge it.
    trust_forwarded_for: bool = False

    login_max_failures: int = Field(default=5, ge=1)
    login_lockout_seconds: int = Field(default=15 * 60, ge=0)

    def upstreams(self) -> dict[str, str]:
        """Base URL of each service, without a trailing slash."""
        return {name: str(getattr(self, f"{name}_url")).rstrip("/") for name in SERVICES}

    def private_key_pem(self) -> str:
        if self.jwt_private_key:
            return self.jwt_private_key
        if self.jwt_private_key_file:
            with open(self.jwt_private_key_file, encoding="utf-8") as fh:
                return fh.read()
        return ""
