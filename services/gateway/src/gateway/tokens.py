"""Signing tokens: the gateway holds the Ed25519 private key; services verify with the public
key, which the gateway derives from it for its own checks. Every token names its key (`kid`)."""

from __future__ import annotations

from dataclasses import dataclass, field

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from yanxiu.kit.auth import Principal, issue_token
from yanxiu.kit.jwks import key_id


def load_signing_key(private_key_pem: str) -> Ed25519PrivateKey:
    if not private_key_pem.strip():
        raise ValueError(
            "the gateway needs its signing key: set GATEWAY_JWT_PRIVATE_KEY (PEM) "
            "or GATEWAY_JWT_PRIVATE_KEY_FILE"
        )
    key = serialization.load_pem_private_key(private_key_pem.encode(), password=None)
    if not isinstance(key, Ed25519PrivateKey):
        raise ValueError("GATEWAY_JWT_PRIVATE_KEY must be an Ed25519 private key (PEM, PKCS#8)")
    return key


@dataclass(frozen=True)
class TokenIssuer:
    private_key_pem: str
    issuer: str
    ttl_seconds: int
    kid: str = field(default="")

    def __post_init__(self) -> None:
        if not self.kid:
            object.__setattr__(
                self, "kid", key_id(load_signing_key(self.private_key_pem).public_key())
            )

    def issue(self, principal: Principal, *, session_id: str | None = None) -> str:
        return issue_token(
            principal,
            private_key_pem=self.private_key_pem,
            issuer=self.issuer,
            ttl_seconds=self.ttl_seconds,
            session_id=session_id,
            key_id=self.kid,
        )
