"""The gateway's token keys (签名密钥): the Ed25519 key it signs with, named by its RFC 7638
thumbprint (`kid`), and the public keys it signed with before, still trusted until the tokens
they signed have expired. Published as a JWKS for the services."""

from __future__ import annotations

from dataclasses import dataclass

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from gateway.config import GatewaySettings
from gateway.tokens import load_signing_key
from yanxiu.kit.jwks import jwks_document, key_id, load_public_keys, public_key_pem


@dataclass(frozen=True)
class SigningKeys:
    private_key_pem: str
    current: Ed25519PublicKey
    previous: tuple[Ed25519PublicKey, ...]

    @classmethod
    def from_settings(cls, settings: GatewaySettings) -> SigningKeys:
        """The previous keys are those of GATEWAY_JWT_PREVIOUS_PUBLIC_KEYS(_FILE) and any other
        key in the platform's JWT_PUBLIC_KEY(_FILE), the file every process trusts: during a
        rotation it holds the new key and the old one."""
        private_pem = settings.private_key_pem()
        current = load_signing_key(private_pem).public_key()
        listed = [
            *load_public_keys(settings.previous_public_keys_pem()),
            *load_public_keys(settings.public_key_pem()),
        ]
        previous = {key_id(k): k for k in listed if key_id(k) != key_id(current)}
        return cls(private_key_pem=private_pem, current=current, previous=tuple(previous.values()))

    @property
    def kid(self) -> str:
        return key_id(self.current)

    def trusted_pem(self) -> list[str]:
        """Every key a token may be signed with, the current one first."""
        return [public_key_pem(key) for key in (self.current, *self.previous)]

    def jwks(self) -> dict[str, list[dict[str, str]]]:
        return jwks_document([self.current, *self.previous])
