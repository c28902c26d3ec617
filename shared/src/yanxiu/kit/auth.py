"""JWT verification, roles and org scope.

Tokens are signed by the gateway with an Ed25519 key (EdDSA); services hold only the public key.
Claims: `sub` (user id), `role`, `org` (org path from the province down to the caller's own
unit), `name`, optional `teacher_id`. A caller acts only inside the subtree under its own org.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from enum import StrEnum
from typing import Any

import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from pydantic import BaseModel, ConfigDict

from yanxiu.kit.errors import Forbidden, OutOfScope, Unauthorized


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
) -> str:
    now = int(time.time())
    claims: dict[str, Any] = {
        "iss": issuer,
        "sub": principal.user_id,
        "role": principal.role.value,
        "org": list(principal.org_path),
        "name": principal.name,
        "iat": now,
        "exp": now + ttl_seconds,
    }
    if principal.teacher_id:
        claims["teacher_id"] = principal.teacher_id
    return jwt.encode(claims, private_key_pem, algorithm="EdDSA")


class TokenVerifier:
    """Checks a token's signature, expiry and scope. Tokens already checked are remembered
    until they expire (keyed by the whole token, signature included): an Ed25519 check costs
    more than the rest of a small request, and a client sends the same token many times."""

    CACHE_SIZE = 50_000

    def __init__(self, public_key_pem: str, *, issuer: str = "yanxiu") -> None:
        self.public_key_pem = public_key_pem
        self.issuer = issuer
        self._checked: dict[str, tuple[Principal, float]] = {}

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

    def _verify(self, token: str) -> tuple[Principal, float]:
        if not self.public_key_pem:
            raise Unauthorized("服务未配置令牌公钥", "No token public key configured")
        try:
            claims = jwt.decode(
                token,
                self.public_key_pem,
                algorithms=["EdDSA"],
                issuer=self.issuer,
                options={"require": ["exp", "sub", "iss"]},
            )
            principal = Principal(
                user_id=claims["sub"],
                role=Role(claims["role"]),
                org_path=tuple(claims.get("org") or ()),
                name=claims.get("name", ""),
                teacher_id=claims.get("teacher_id"),
            )
        except jwt.ExpiredSignatureError as exc:
            raise Unauthorized("登录已过期，请重新登录", "Token expired") from exc
        except (jwt.InvalidTokenError, KeyError, ValueError) as exc:
            raise Unauthorized("令牌无效", "Invalid token") from exc
        # An admin acts on the subtree under its own unit: its org path must reach that level.
        level = ADMIN_LEVEL.get(principal.role)
        if level is not None and len(principal.org_path) != level:
            raise Unauthorized(
                "令牌的组织范围与角色不符", "Token org scope does not match its role"
            )
        return principal, float(claims["exp"])
