"""JWT verification, roles and org scope.

Tokens are signed by the gateway with an Ed25519 key (EdDSA); services hold only the public key
(or several during a key rotation, chosen by the `kid` header). Claims: `sub` (user id), `role`,
`org` (org path from the province down to the caller's own unit), `name`, optional `teacher_id`,
`sid` (the sign-in session) and `iat`. A caller acts only inside the subtree under its own org.
"""

from __future__ import annotations

import asyncio
import logging
import math
import time
from collections.abc import Iterable, Sequence
from enum import StrEnum
from typing import Any

import httpx
import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from pydantic import BaseModel, ConfigDict, Field

from yanxiu.kit.errors import Forbidden, OutOfScope, Unauthorized
from yanxiu.kit.jwks import keys_by_id, keys_from_jwks, load_public_keys, private_key_id

log = logging.getLogger(__name__)


class Role(StrEnum):
    teacher = "teacher"
    school_admin = "school_admin"
    county_admin = "county_admin"
    city_admin = "city_admin"
    province_admin = "province_admin"
    workshop_host = "workshop_host"
    expert = "expert"
    provider = "provider"
    # 培训机构: enters offline training records for teachers inside its org path (a city or
    # county it serves); opened by county admins and above.
    training_institution = "training_institution"


ADMIN_LEVEL: dict[Role, int] = {
    Role.province_admin: 1,
    Role.city_admin: 2,
    Role.county_admin: 3,
    Role.school_admin: 4,
}
"""Depth of the org path an admin of each level owns (1 = province)."""


class Principal(BaseModel):
    model_config = ConfigDict(frozen=True)

    user_id: str
    role: Role
    org_path: tuple[str, ...]
    name: str = ""
    teacher_id: str | None = None
    # What the gateway checks a token against (its session, and when the account's sessions
    # were last ended); not part of the caller as the API shows it.
    session_id: str | None = Field(default=None, exclude=True, repr=False)
    issued_at: float | None = Field(default=None, exclude=True, repr=False)

    @property
    def is_admin(self) -> bool:
        return self.role in ADMIN_LEVEL

    def covers(self, target_path: Sequence[str]) -> bool:
        """True when the target (an org path) lies in the caller's subtree."""
        n = len(self.org_path)
        return n > 0 and tuple(target_path[:n]) == self.org_path

    def ensure_covers(self, target_path: Sequence[str]) -> None:
        if not self.covers(target_path):
            raise OutOfScope()

    def ensure_role(self, *roles: Role) -> None:
        if self.role not in roles:
            allowed = ", ".join(r.value for r in roles)
            raise Forbidden(f"需要以下角色之一：{allowed}", f"Requires one of: {allowed}")


def generate_keypair() -> tuple[str, str]:
    """A fresh Ed25519 key pair as (private PEM, public PEM)."""
    key = Ed25519PrivateKey.generate()
    private = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    ).decode()
    public = (
        key.public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
        .decode()
    )
    return private, public


def issue_token(
    principal: Principal,
    *,
    private_key_pem: str,
    issuer: str = "yanxiu",
    ttl_seconds: int = 8 * 3600,
    session_id: str | None = None,
    key_id: str | None = None,
) -> str:
    """A signed token. `iat` keeps its fraction of a second: the gateway compares it with the
    moment an account's sessions were ended, and a token issued just after that must pass."""
    now = time.time()
    claims: dict[str, Any] = {
        "iss": issuer,
        "sub": principal.user_id,
        "role": principal.role.value,
        "org": list(principal.org_path),
        "name": principal.name,
        "iat": now,
        "exp": int(now) + ttl_seconds,
    }
    if principal.teacher_id:
        claims["teacher_id"] = principal.teacher_id
    if session_id:
        claims["sid"] = session_id
    headers = {"kid": key_id or private_key_id(private_key_pem)}
    return jwt.encode(claims, private_key_pem, algorithm="EdDSA", headers=headers)


class UnknownSigningKey(Unauthorized):
    """The token names a key this process does not know (not yet fetched, or retired)."""

    code = "unknown_signing_key"
    title_zh = "令牌的签名密钥未知"
    title_en = "The token is signed with an unknown key"


class TokenVerifier:
    """Checks a token's signature, expiry and scope. Tokens already checked are remembered
    until they expire (keyed by the whole token, signature included): an Ed25519 check costs
    more than the rest of a small request, and a client sends the same token many times.

    Several public keys may be trusted at once, chosen by the token's `kid` (the RFC 7638
    thumbprint), so that the gateway's key can rotate while tokens signed by the previous one
    are still in use. Keys come from PEM text (several blocks allowed) and, with `jwks_url`,
    from the gateway's JWKS: fetched at startup (`refresh_keys`) and again when a token names a
    key not known here, at most once every `jwks_min_interval` seconds."""

    CACHE_SIZE = 50_000

    def __init__(
        self,
        public_keys: str | Iterable[str] = "",
        *,
        issuer: str = "yanxiu",
        jwks_url: str = "",
        jwks_min_interval: float = 30.0,
        jwks_timeout: float = 5.0,
    ) -> None:
        self.issuer = issuer
        self.jwks_url = jwks_url
        self.jwks_min_interval = jwks_min_interval
        self.jwks_timeout = jwks_timeout
        self._configured = keys_by_id(load_public_keys(public_keys))
        self._keys: dict[str, Ed25519PublicKey] = dict(self._configured)
        self._checked: dict[str, tuple[Principal, float]] = {}
        self._fetched_at = -math.inf
        self._fetching: asyncio.Task[None] | None = None

    @property
    def key_ids(self) -> list[str]:
        return list(self._keys)

    def verify(self, token: str) -> Principal:
        hit = self._checked.get(token)
        if hit is not None:
            if hit[1] > time.time():
                return hit[0]
            del self._checked[token]
        principal, expires = self._verify(token)
        if len(self._checked) >= self.CACHE_SIZE:
            del self._checked[next(iter(self._checked))]  # the oldest entry
        self._checked[token] = (principal, expires)
        return principal

    async def verify_async(self, token: str) -> Principal:
        """As `verify`, but a token naming an unknown key waits for the JWKS to be fetched
        again (rate limited) instead of being refused while the fetch runs."""
        try:
            return self.verify(token)
        except UnknownSigningKey:
            if not self.jwks_url:
                raise
            await self.refresh_keys()
            return self.verify(token)

    async def refresh_keys(self) -> None:
        """Fetches the JWKS (when a URL is set) unless it was fetched in the last
        `jwks_min_interval` seconds; callers arriving during a fetch wait for that one."""
        if not self.jwks_url:
            return
        if self._fetching is None or self._fetching.done():
            if time.monotonic() - self._fetched_at < self.jwks_min_interval:
                return
            self._fetched_at = time.monotonic()
            self._fetching = asyncio.get_running_loop().create_task(self._fetch_jwks())
        await asyncio.shield(self._fetching)

    async def _fetch_jwks(self) -> None:
        try:
            async with httpx.AsyncClient(timeout=self.jwks_timeout, trust_env=False) as client:
                answer = await client.get(self.jwks_url)
                answer.raise_for_status()
                fetched = keys_from_jwks(answer.json())
        except (httpx.HTTPError, ValueError) as exc:
            log.warning("JWKS not fetched", extra={"url": self.jwks_url, "error": repr(exc)})
            return
        keys = {**self._configured, **fetched}
        if keys.keys() != self._keys.keys():
            # A key dropped from the JWKS is retired: tokens it signed are not remembered.
            self._checked.clear()
        self._keys = keys

    def _refresh_soon(self) -> None:
        if not self.jwks_url:
            return
        if self._fetching is not None and not self._fetching.done():
            return
        if time.monotonic() - self._fetched_at < self.jwks_min_interval:
            return
        try:
            asyncio.get_running_loop()
        except RuntimeError:
            return  # no event loop here: only `refresh_keys` can fetch
        self._fetched_at = time.monotonic()
        self._fetching = asyncio.get_running_loop().create_task(self._fetch_jwks())

    def _candidates(self, token: str) -> list[Ed25519PublicKey]:
        if not self._keys and not self.jwks_url:
            raise Unauthorized("服务未配置令牌公钥", "No token public key configured")
        try:
            kid = jwt.get_unverified_header(token).get("kid")
        except jwt.InvalidTokenError as exc:
            raise Unauthorized("令牌无效", "Invalid token") from exc
        if kid is None and self._keys:
            # Tokens from before keys had ids: each trusted key is tried.
            return list(self._keys.values())
        key = self._keys.get(kid) if isinstance(kid, str) else None
        if key is None:
            self._refresh_soon()
            raise UnknownSigningKey()
        return [key]

    def _decode(self, token: str, candidates: list[Ed25519PublicKey]) -> dict[str, Any]:
        for key in candidates[:-1]:
            try:
                return self._decode_with(token, key)
            except jwt.InvalidSignatureError:
                continue
        return self._decode_with(token, candidates[-1])

    def _decode_with(self, token: str, key: Ed25519PublicKey) -> dict[str, Any]:
        return jwt.decode(
            token,
            key,
            algorithms=["EdDSA"],
            issuer=self.issuer,
            options={"require": ["exp", "sub", "iss"]},
        )

    def _verify(self, token: str) -> tuple[Principal, float]:
        candidates = self._candidates(token)
        try:
            claims = self._decode(token, candidates)
            iat = claims.get("iat")
            principal = Principal(
                user_id=claims["sub"],
                role=Role(claims["role"]),
                org_path=tuple(claims.get("org") or ()),
                name=claims.get("name", ""),
                teacher_id=claims.get("teacher_id"),
                session_id=claims.get("sid"),
                issued_at=float(iat) if isinstance(iat, int | float) else None,
            )
        except jwt.ExpiredSignatureError as exc:
            raise Unauthorized("登录已过期，请重新登录", "Token expired") from exc
        except (jwt.InvalidTokenError, KeyError, ValueError, TypeError) as exc:
            raise Unauthorized("令牌无效", "Invalid token") from exc
        # An admin acts on the subtree under its own unit: its org path must reach that level.
        level = ADMIN_LEVEL.get(principal.role)
        if level is not None and len(principal.org_path) != level:
            raise Unauthorized(
                "令牌的组织范围与角色不符", "Token org scope does not match its role"
            )
        return principal, float(claims["exp"])
