"""The providers' request signature (pure functions; no I/O).

    X-Provider-Key:       the key id, e.g. pk_3f9c1a2b4d5e6f70
    X-Provider-Timestamp: Unix time in whole seconds (UTC), e.g. 1793600000
    X-Provider-Signature: sha256=<lowercase hex of HMAC-SHA256(secret, timestamp + "." + body)>

`secret` is the key's secret as UTF-8 bytes, `timestamp` the header's exact ASCII text and
`body` the raw request body bytes exactly as sent. GET and DELETE have no body: they sign their
request target instead, the path and query exactly as sent (`/xapi/statements?statementId=…`;
through the gateway `/api/v1/learning/xapi/statements?…`), so a signature cannot be reused for
another target. The timestamp must be within the replay window of the server clock, and a
write's signature is accepted once: a retry signs again with a fresh timestamp (a byte-identical
write inside the window is a replay, refused even when the first answer was lost: re-sign; the
event or statement id makes the retry harmless). Reads are not tracked: repeating one changes
nothing.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets

KEY_HEADER = "X-Provider-Key"
TIMESTAMP_HEADER = "X-Provider-Timestamp"
SIGNATURE_HEADER = "X-Provider-Signature"
SCHEME = "sha256="
# Methods without a body sign their request target (path and query as sent).
TARGET_SIGNED = frozenset({"GET", "HEAD", "DELETE"})

SIGNING_DOC = (
    "签名认证 (signed request). Headers: `X-Provider-Key: <key id>`, `X-Provider-Timestamp: "
    "<Unix seconds, UTC>`, `X-Provider-Signature: sha256=<hex>` where hex is the lowercase "
    'hex HMAC-SHA256 keyed with the secret (UTF-8) over the bytes `timestamp + "." + raw body` '
    "(the timestamp header's exact text, a full stop, then the request body exactly as sent; "
    "GET and DELETE sign their path and query as sent instead of a body). The timestamp must "
    "be within ±300 s of the server clock (configurable) else 401 `signature_expired`; a write's "
    "signature is accepted once (401 `signature_replayed`: sign a retry afresh); unknown or "
    "revoked keys get 401 `key_unknown` / `key_revoked`; a wrong signature 401 "
    "`signature_invalid`."
)


# OpenAPI: the signature as three header schemes, all required together (one requirement
# object); each operation's text says how to compute it.
SIGNATURE_SCHEMES: dict[str, dict[str, str]] = {
    "providerKey": {
        "type": "apiKey",
        "in": "header",
        "name": KEY_HEADER,
        "description": "第三方机构密钥 id (the provider key's id, e.g. pk_3f9c1a2b4d5e6f70)",
    },
    "providerTimestamp": {
        "type": "apiKey",
        "in": "header",
        "name": TIMESTAMP_HEADER,
        "description": "Unix time in whole seconds (UTC), within the replay window",
    },
    "providerSignature": {
        "type": "apiKey",
        "in": "header",
        "name": SIGNATURE_HEADER,
        "description": SIGNING_DOC,
    },
}
SIGNATURE_REQUIREMENT: dict[str, list[str]] = {name: [] for name in SIGNATURE_SCHEMES}
BASIC_SCHEMES: dict[str, dict[str, str]] = {
    "xapiBasic": {
        "type": "http",
        "scheme": "basic",
        "description": "xAPI: HTTP Basic with the provider key's `key id:secret`",
    }
}


def new_key_id() -> str:
    return "pk_" + secrets.token_hex(8)


def new_secret() -> str:
    return "sk_" + secrets.token_urlsafe(32)


def secret_context(key_id: str) -> str:
    """Encryption context of a key's secret: a secret copied to another row does not decrypt."""
    return f"learning.provider_key:{key_id}"


def signature(secret: str, timestamp: str, body: bytes) -> str:
    """The hex HMAC-SHA256 of `timestamp + "." + body` under `secret`."""
    mac = hmac.new(secret.encode(), timestamp.encode() + b"." + body, hashlib.sha256)
    return mac.hexdigest()


def sign_headers(key_id: str, secret: str, body: bytes, *, timestamp: int) -> dict[str, str]:
    """The three headers a provider sends (used by tests and client examples)."""
    ts = str(timestamp)
    return {
        KEY_HEADER: key_id,
        TIMESTAMP_HEADER: ts,
        SIGNATURE_HEADER: SCHEME + signature(secret, ts, body),
    }


def parse_timestamp(raw: str) -> int | None:
    """Whole Unix seconds, ASCII digits only (no sign, no fraction); None when malformed."""
    if not raw.isascii() or not raw.isdigit() or len(raw) > 12:
        return None
    return int(raw)


def parse_signature(raw: str) -> str | None:
    """The hex digest from `sha256=<64 hex>`; None when malformed."""
    if not raw.startswith(SCHEME):
        return None
    digest = raw[len(SCHEME) :].strip().lower()
    if len(digest) != 64 or any(c not in "0123456789abcdef" for c in digest):
        return None
    return digest


def within_window(timestamp: int, now: float, window_seconds: int) -> bool:
    return abs(now - timestamp) <= window_seconds


def matches(secret: str, timestamp: str, body: bytes, claimed_hex: str) -> bool:
    """Constant-time comparison of the claimed signature with the expected one."""
    return hmac.compare_digest(signature(secret, timestamp, body), claimed_hex)
