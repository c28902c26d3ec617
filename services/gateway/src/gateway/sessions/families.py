"""Session families (令牌族): a sign-in starts one; a refresh exchanges the family's current
refresh token for a new pair, with the account's role and org as they are now; a used token
presented again, or a logout, ends the family. Nothing commits here: the boundary does."""

from __future__ import annotations

import contextlib
import hashlib
import secrets
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from gateway.models import audit_log
from gateway.sessions import store
from gateway.sessions.errors import InvalidRefreshToken, RefreshTokenReused, SessionRevoked
from gateway.sessions.store import SignedInAccount
from gateway.tokens import TokenIssuer
from yanxiu.kit.audit import AuditTrail
from yanxiu.kit.auth import Principal, Role
from yanxiu.kit.errors import DomainError

AUDIT = AuditTrail(audit_log)
# 256 bits from the OS's generator, base64url: never guessed, and only its digest is stored.
REFRESH_TOKEN_BYTES = 32


@dataclass(frozen=True)
class Issued:
    access_token: str
    expires_in: int
    refresh_token: str
    refresh_expires_in: int
    principal: Principal
    session_id: uuid.UUID


@dataclass(frozen=True)
class Refused:
    """A refresh refused; `ended` names the family it revoked, if it did (the caller tells the
    gateway's view at once, and commits: the revocation must stand though the answer is 401)."""

    error: DomainError
    ended: uuid.UUID | None = None


def digest(token: str) -> bytes:
    return hashlib.sha256(token.encode()).digest()


def principal_of(account: SignedInAccount) -> Principal:
    return Principal(
        user_id=str(account.id),
        role=Role(account.role),
        org_path=tuple(account.org_path),
        name=account.name,
        teacher_id=str(account.teacher_id) if account.teacher_id else None,
    )


async def start(
    session: AsyncSession,
    issuer: TokenIssuer,
    *,
    account: SignedInAccount,
    refresh_ttl: int,
    now: datetime,
) -> Issued:
    """登录: a new family for a sign-in, with its first pair of tokens."""
    session_id = uuid.uuid4()
    await store.add_family(
        session,
        session_id=session_id,
        account_id=account.id,
        now=now,
        expires_at=now + timedelta(seconds=refresh_ttl),
    )
    return await _issue(session, issuer, session_id, account, refresh_ttl=refresh_ttl, now=now)


async def refresh(
    session: AsyncSession,
    issuer: TokenIssuer,
    *,
    refresh_token: str,
    refresh_ttl: int,
    now: datetime,
) -> Issued | Refused:
    """刷新: the next pair for the family's current refresh token, which is retired."""
    token_digest = digest(refresh_token)
    session_id = await store.use_refresh_token(session, token_digest, now=now)
    if session_id is None:
        reused = await store.used_refresh_token_family(session, token_digest, now=now)
        if reused is None:
            return Refused(InvalidRefreshToken())
        await _revoke_for_reuse(session, reused, now=now)
        return Refused(RefreshTokenReused(), ended=reused)
    family = await store.family_of(session, session_id)
    if family is None or family.revoked_at is not None:
        return Refused(SessionRevoked())
    cut = family.tokens_valid_after
    if not family.account_active or (cut is not None and cut > family.created_at):
        await store.revoke_family(session, session_id, reason="account", now=now)
        return Refused(SessionRevoked(), ended=session_id)
    await store.extend_family(
        session, session_id, now=now, expires_at=now + timedelta(seconds=refresh_ttl)
    )
    return await _issue(
        session, issuer, session_id, family.account, refresh_ttl=refresh_ttl, now=now
    )


async def end(
    session: AsyncSession,
    *,
    refresh_token: str | None,
    session_id: str | None,
    now: datetime,
) -> set[uuid.UUID]:
    """退出登录: ends the family of the refresh token and of the access token given; the
    families it ended (none for tokens it does not know: logging out twice is no error)."""
    families: set[uuid.UUID] = set()
    if refresh_token:
        found = await store.family_of_token(session, digest(refresh_token))
        if found is not None:
            families.add(found)
    if session_id:
        with contextlib.suppress(ValueError):  # not from a token this gateway issued
            families.add(uuid.UUID(session_id))
    for family in families:
        await store.revoke_family(session, family, reason="logout", now=now)
    return families


async def _issue(
    session: AsyncSession,
    issuer: TokenIssuer,
    session_id: uuid.UUID,
    account: SignedInAccount,
    *,
    refresh_ttl: int,
    now: datetime,
) -> Issued:
    refresh_token = secrets.token_urlsafe(REFRESH_TOKEN_BYTES)
    await store.add_refresh_token(
        session,
        digest=digest(refresh_token),
        session_id=session_id,
        now=now,
        expires_at=now + timedelta(seconds=refresh_ttl),
    )
    principal = principal_of(account)
    return Issued(
        access_token=issuer.issue(principal, session_id=str(session_id)),
        expires_in=issuer.ttl_seconds,
        refresh_token=refresh_token,
        refresh_expires_in=refresh_ttl,
        principal=principal,
        session_id=session_id,
    )


async def _revoke_for_reuse(session: AsyncSession, session_id: uuid.UUID, *, now: datetime) -> None:
    if not await store.revoke_family(session, session_id, reason="reuse", now=now):
        return  # already ended; recorded the first time
    family = await store.family_of(session, session_id)
    if family is None:
        return
    # A copy of a refresh token was in someone else's hands: admins should see that.
    await AUDIT.record(
        session,
        actor=None,
        actor_id="gateway",
        action="session.refresh_reuse",
        target_type="account",
        target_id=str(family.account.id),
        target_org=family.account.org_path,
        after={"session_id": str(session_id), "revoked_at": now.isoformat()},
    )
