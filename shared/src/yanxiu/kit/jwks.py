"""Token signing keys as services see them: Ed25519 public keys named by their RFC 7638 JWK
thumbprint (the `kid` in every token's header), read from PEM text (several blocks allowed, so a
key rotation can list the old key beside the new one) or from a JWKS document (RFC 7517)."""

from __future__ import annotations

import base64
import hashlib
import json
import re
from collections.abc import Iterable, Mapping
from typing import Any

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

_PEM_BLOCK = re.compile(
    r"-----BEGIN PUBLIC KEY-----\s.*?-----END PUBLIC KEY-----", re.DOTALL | re.ASCII
)


def _b64url(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode("ascii")


def _b64url_decode(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def _raw(key: Ed25519PublicKey) -> bytes:
    return key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)


def public_jwk(key: Ed25519PublicKey) -> dict[str, str]:
    """The key as a JWK (RFC 8037 OKP), with its `kid`, `alg` and `use`."""
    return {
        "kty": "OKP",
        "crv": "Ed25519",
        "x": _b64url(_raw(key)),
        "kid": key_id(key),
        "alg": "EdDSA",
        "use": "sig",
    }


def key_id(key: Ed25519PublicKey) -> str:
    """RFC 7638 thumbprint: SHA-256 over the required members in lexicographic order, with no
    whitespace, base64url without padding. Stable for a key wherever it is computed."""
    members = {"crv": "Ed25519", "kty": "OKP", "x": _b64url(_raw(key))}
    canonical = json.dumps(members, separators=(",", ":"), sort_keys=True).encode()
    return _b64url(hashlib.sha256(canonical).digest())


def private_key_id(private_key_pem: str) -> str:
    """The `kid` of the public half of a PEM private key."""
    key = serialization.load_pem_private_key(private_key_pem.encode(), password=None)
    if not isinstance(key, Ed25519PrivateKey):
        raise ValueError("the token signing key must be an Ed25519 private key (PEM, PKCS#8)")
    return key_id(key.public_key())


def public_key_pem(key: Ed25519PublicKey) -> str:
    return key.public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    ).decode()


def load_public_keys(pem_text: str | Iterable[str]) -> list[Ed25519PublicKey]:
    """Every public key in the text, in order (PEM blocks, anything between them ignored).
    A block that is not an Ed25519 public key is a configuration error, raised at startup."""
    texts = [pem_text] if isinstance(pem_text, str) else list(pem_text)
    keys: list[Ed25519PublicKey] = []
    for text in texts:
        blocks = _PEM_BLOCK.findall(text)
        if text.strip() and not blocks:
            raise ValueError("no PEM public key (-----BEGIN PUBLIC KEY-----) in the JWT key text")
        for block in blocks:
            key = serialization.load_pem_public_key(block.encode())
            if not isinstance(key, Ed25519PublicKey):
                raise ValueError("JWT public keys must be Ed25519 (EdDSA)")
            keys.append(key)
    return keys


def keys_by_id(keys: Iterable[Ed25519PublicKey]) -> dict[str, Ed25519PublicKey]:
    return {key_id(key): key for key in keys}


def jwks_document(keys: Iterable[Ed25519PublicKey]) -> dict[str, list[dict[str, str]]]:
    """A JWKS (RFC 7517) listing each key once, in the order given."""
    return {"keys": [public_jwk(key) for key in keys_by_id(keys).values()]}


def keys_from_jwks(doc: Mapping[str, Any]) -> dict[str, Ed25519PublicKey]:
    """The Ed25519 signing keys of a JWKS, by the thumbprint computed here (a `kid` the document
    states is not trusted to name the key); other kinds of keys are skipped."""
    found: dict[str, Ed25519PublicKey] = {}
    entries = doc.get("keys")
    if not isinstance(entries, list):
        raise ValueError("a JWKS has a list of keys")
    for entry in entries:
        if not isinstance(entry, dict) or entry.get("kty") != "OKP":
            continue
        if entry.get("crv") != "Ed25519" or entry.get("use", "sig") != "sig":
            continue
        x = entry.get("x")
        if not isinstance(x, str):
            continue
        raw = _b64url_decode(x)
        if len(raw) != 32:
            continue
        key = Ed25519PublicKey.from_public_bytes(raw)
        found[key_id(key)] = key
    return found
