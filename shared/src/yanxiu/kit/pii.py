"""Personal data at rest (身份证号, phone numbers): AES-256-GCM encryption, a keyed blind index
for exact lookups and uniqueness, and masking for display.

One master key (32 bytes, base64 in the service's settings) derives separate keys for
encryption and for the blind index (HKDF), so the index reveals nothing usable to decrypt.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import os

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

_VERSION = b"\x01"


def _derive(master: bytes, purpose: bytes) -> bytes:
    return HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=purpose).derive(master)


class PiiCipher:
    def __init__(self, master_key_b64: str) -> None:
        try:
            master = base64.b64decode(master_key_b64, validate=True)
        except ValueError as exc:
            raise ValueError("PII key must be base64") from exc
        if len(master) != 32:
            raise ValueError("PII key must be 32 bytes (base64 of 32 random bytes)")
        self._aead = AESGCM(_derive(master, b"yanxiu-pii-encrypt-v1"))
        self._index_key = _derive(master, b"yanxiu-pii-blind-index-v1")

    def encrypt(self, plaintext: str, *, context: str) -> bytes:
        """`context` (e.g. "teacher.id_number") is bound to the ciphertext: a value copied into
        another column does not decrypt."""
        nonce = os.urandom(12)
        return _VERSION + nonce + self._aead.encrypt(nonce, plaintext.encode(), context.encode())

    def decrypt(self, blob: bytes, *, context: str) -> str:
        if blob[:1] != _VERSION:
            raise ValueError("unknown PII ciphertext version")
        nonce, body = blob[1:13], blob[13:]
        return self._aead.decrypt(nonce, body, context.encode()).decode()

    def blind_index(self, value: str, *, context: str) -> str:
        """Deterministic keyed hash (HMAC-SHA256) of a normalised value, for equality lookups."""
        mac = hmac.new(self._index_key, f"{context}\0{value}".encode(), hashlib.sha256)
        return mac.hexdigest()


def mask_id_number(value: str) -> str:
    """370102********123X: region kept, birth date and sequence hidden."""
    if len(value) < 10:
        return "*" * len(value)
    return value[:6] + "*" * (len(value) - 10) + value[-4:]


def mask_phone(value: str) -> str:
    """138****5678."""
    if len(value) < 7:
        return "*" * len(value)
    return value[:3] + "*" * (len(value) - 7) + value[-4:]


def generate_key() -> str:
    return base64.b64encode(os.urandom(32)).decode()
