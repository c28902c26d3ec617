"""Signing tokens: the gateway holds the Ed25519 private key; services verify with the public
key, which the gateway derives from it for its own checks."""

from __future__ import annotations

from dataclasses import dataclass

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from yanxiu.kit.auth import Principal, issue_token


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


def public_key_pem(private_key_pem: str) -> str:
    """The PEM public key matching the signing key (what services are configured with)."""
    return (
        load_signing_key(private_key_pem)
        .public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
        .decode()
    )


@dataclass(frozen=True)
class TokenIssuer:
    private_key_pem: str
    issuer: str
    ttl_seconds: int

    def issue(self, principal: Principal) -> str:
        return issue_token(
            principal,
            private_key_pem=self.private_key_pem,
            issuer=self.issuer,
            ttl_seconds=self.ttl_seconds,
        )
