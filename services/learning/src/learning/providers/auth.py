"""Who is calling: a provider proven by its key (HMAC signature, see `signing`; or, for xAPI
only, HTTP Basic `key id:secret` as LRS clients do). Secrets are decrypted per request."""

from __future__ import annotations

import base64
import binascii
import hmac
import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Annotated

from cryptography.exceptions import InvalidTag
from fastapi import Depends, Request
from sqlalchemy import bindparam, delete, or_, select, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from learning.providers import signing
from learning.providers.errors import (
    KeyRevoked,
    KeyUnknown,
    SecretsNotConfigured,
    SignatureExpired,
    SignatureInvalid,
    SignatureMalformed,
    SignatureMissing,
    SignatureReplayed,
)
from learning.providers.models import Provider, ProviderKey, ProviderSignature
from learning.reading import PreparedPairs, prepared_pairs
from yanxiu.kit import writes
from yanxiu.kit.deps import Session, runtime
from yanxiu.kit.openapi import Auth, document_auth
from yanxiu.kit.pii import PiiCipher
from yanxiu.kit.writes import SessionReads

_CIPHER = "provider_cipher"
# Every provider request reads its key and provider: the join is built and compiled once.
KEY_AND_PROVIDER = PreparedPairs(
    select(ProviderKey, Provider)
    .join(Provider, Provider.id == ProviderKey.provider_id)
    .where(ProviderKey.id == bindparam("key_id")),
    ProviderKey,
    Provider,
)


@dataclass(frozen=True)
class Caller:
    """An authenticated provider, the key it used and the raw body it signed."""

    provider: Provider
    key_id: str
    body: bytes


def cipher(request: Request) -> PiiCipher:
    """The cipher for provider secrets, built once per app from its settings."""
    rt = runtime(request)
    found = rt.extras.get(_CIPHER)
    if found is None:
        key = getattr(rt.settings, "provider_secret_key", "")
        if not key:
            raise SecretsNotConfigured()
        try:
            found = rt.extras[_CIPHER] = PiiCipher(key)
        except ValueError as exc:
            raise SecretsNotConfigured("主密钥格式错误", "Malformed master key") from exc
    assert isinstance(found, PiiCipher)
    return found


def _secret(request: Request, key: ProviderKey) -> str:
    try:
        return cipher(request).decrypt(key.secret_encrypted, context=signing.secret_context(key.id))
    except (InvalidTag, ValueError) as exc:  # the master key changed since the key was issued
        raise SecretsNotConfigured(
            "密钥无法用当前主密钥解密", "The key's secret does not decrypt with the master key"
        ) from exc


async def _key(session: AsyncSession, key_id: str) -> tuple[ProviderKey, Provider]:
    """The key and its provider, to check and copy from: read on the request's connection."""
    found = await prepared_pairs(SessionReads(session), KEY_AND_PROVIDER, key_id=key_id)
    if not found:
        raise KeyUnknown()
    key, provider = found[0]
    if key.revoked_at is not None:
        raise KeyRevoked()
    return key, provider


async def _remember(session: AsyncSession, key_id: str, digest: str, window: int) -> None:
    """Record the signature once (primary key); a second use inside the window is a replay.
    Older rows cannot be replayed anyway (their timestamp is out of the window): prune a few."""
    inserted = await writes.run(
        session,
        insert(ProviderSignature)
        .values(key_id=key_id, signature=digest)
        .on_conflict_do_nothing()
        .returning(ProviderSignature.key_id),
    )
    if not inserted:
        raise SignatureReplayed()
    if digest.startswith("00"):  # ~1 request in 256 prunes, so the table stays small
        cutoff = datetime.fromtimestamp(time.time() - 2 * window, UTC)
        await writes.run(
            session, delete(ProviderSignature).where(ProviderSignature.seen_at < cutoff)
        )


async def _touch(session: AsyncSession, key: ProviderKey) -> None:
    """Note when a key was last used (for rotation), at most once a minute: updating the row on
    every request would queue a provider's concurrent requests behind its row lock. The key as
    read for this request says whether a minute has passed; only then is an UPDATE sent (and
    its condition settles a race with another request doing the same)."""
    now = datetime.now(UTC)
    if key.last_used_at is not None and key.last_used_at >= now - timedelta(minutes=1):
        return
    await writes.run(
        session,
        update(ProviderKey)
        .where(
            ProviderKey.id == key.id,
            or_(
                ProviderKey.last_used_at.is_(None),
                ProviderKey.last_used_at < now - timedelta(minutes=1),
            ),
        )
        .values(last_used_at=now),
    )


def _target(request: Request) -> bytes:
    """The request target as the caller sent it: the raw (still percent-encoded) path and query,
    behind the gateway with its prefix."""
    prefix = request.headers.get("x-forwarded-prefix", "").rstrip("/").encode()
    path = request.scope.get("raw_path") or request.url.path.encode()
    query = request.scope.get("query_string", b"")
    return prefix + path + (b"?" + query if query else b"")


async def _by_signature(request: Request, session: AsyncSession, body: bytes) -> Caller:
    key_id = request.headers.get(signing.KEY_HEADER, "")
    raw_ts = request.headers.get(signing.TIMESTAMP_HEADER, "")
    raw_sig = request.headers.get(signing.SIGNATURE_HEADER, "")
    if not (key_id and raw_ts and raw_sig):
        raise SignatureMissing()
    timestamp = signing.parse_timestamp(raw_ts)
    digest = signing.parse_signature(raw_sig)
    if timestamp is None or digest is None or len(key_id) > 40:
        raise SignatureMalformed()
    window = int(getattr(runtime(request).settings, "provider_signature_window_seconds", 300))
    if not signing.within_window(timestamp, time.time(), window):
        raise SignatureExpired(window_seconds=window, server_time=int(time.time()))
    key, provider = await _key(session, key_id)
    secret = _secret(request, key)
    bodyless = request.method in signing.TARGET_SIGNED
    if not signing.matches(secret, raw_ts, _target(request) if bodyless else body, digest):
        raise SignatureInvalid()
    if request.method not in ("GET", "HEAD"):  # repeating a read changes nothing (polling)
        await _remember(session, key.id, digest, window)
    await _touch(session, key)
    return Caller(provider=provider, key_id=key.id, body=body)


async def _by_basic(request: Request, session: AsyncSession, body: bytes, token: str) -> Caller:
    try:
        key_id, sep, secret = base64.b64decode(token, validate=True).decode().partition(":")
    except (binascii.Error, UnicodeDecodeError) as exc:
        raise SignatureMalformed("Basic 凭据格式错误", "Malformed Basic credentials") from exc
    if not sep or not key_id or len(key_id) > 40:
        raise SignatureMalformed("Basic 凭据格式错误", "Malformed Basic credentials")
    key, provider = await _key(session, key_id)
    expected = _secret(request, key)
    if not hmac.compare_digest(expected.encode(), secret.encode()):
        raise SignatureInvalid("密钥不正确", "Wrong key secret")
    await _touch(session, key)
    return Caller(provider=provider, key_id=key.id, body=body)


async def signed_provider(request: Request, session: Session) -> Caller:
    """A provider proven by an HMAC signature over timestamp and body."""
    return await _by_signature(request, session, await request.body())


async def lrs_client(request: Request, session: Session) -> Caller:
    """xAPI callers: the same HMAC signature, or HTTP Basic with `key id:secret`."""
    body = await request.body()
    scheme, _, token = request.headers.get("authorization", "").partition(" ")
    if scheme.lower() == "basic" and token:
        return await _by_basic(request, session, body, token.strip())
    return await _by_signature(request, session, body)


SignedProvider = Annotated[Caller, Depends(signed_provider)]
LrsClient = Annotated[Caller, Depends(lrs_client)]

# How the OpenAPI document describes these callers (yanxiu.kit.openapi): the signature's three
# headers together, or for xAPI either those or HTTP Basic.
document_auth(
    Auth(security=(signing.SIGNATURE_REQUIREMENT,), schemes=signing.SIGNATURE_SCHEMES),
    signed_provider,
)
document_auth(
    Auth(
        security=(signing.SIGNATURE_REQUIREMENT, {"xapiBasic": []}),
        schemes={**signing.SIGNATURE_SCHEMES, **signing.BASIC_SCHEMES},
    ),
    lrs_client,
)
