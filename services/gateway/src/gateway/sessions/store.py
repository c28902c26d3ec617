"""All SQL of sign-in: the account a login names, the outcome of a sign-in, session families
and their refresh tokens, and what the revocation view reads."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from gateway.models import Account, RefreshToken, SignInSession


@dataclass(frozen=True)
class LoginAccount:
    """What sign-in reads before checking the password (and then lets go of the connection)."""

    id: uuid.UUID
    password_hash: str
    active: bool


@dataclass(frozen=True)
class SignedInAccount:
    """The account as it is now, for the token: role, org and teacher are read afresh."""

    id: uuid.UUID
    role: str
    org_path: list[str]
    name: str
    teacher_id: uuid.UUID | None


@dataclass(frozen=True)
class Family:
    """A session family and its account, as a refresh finds them."""

    created_at: datetime
    revoked_at: datetime | None
    account_active: bool
    tokens_valid_after: datetime | None
    account: SignedInAccount


async def login_account(session: AsyncSession, username: str) -> LoginAccount | None:
    row = (
        await session.execute(
            select(Account.id, Account.password_hash, Account.active).where(
                Account.username == username
            )
        )
    ).first()
    return (
        LoginAccount(id=row.id, password_hash=row.password_hash, active=row.active) if row else None
    )


_SIGNED_IN = (Account.id, Account.role, Account.org_path, Account.name, Account.teacher_id)


async def record_success(
    session: AsyncSession, account_id: uuid.UUID, *, now: datetime, new_hash: str | None
) -> SignedInAccount | None:
    """Notes the sign-in and returns the account as it is now; None when it was disabled
    since the password was checked (the row lock waits for a change in flight)."""
    values: dict[str, object] = {"failed_logins": 0, "last_login_at": now}
    if new_hash is not None:
        values["password_hash"] = new_hash
    row = (
        await session.execute(
            update(Account)
            .where(Account.id == account_id, Account.active.is_(True))
            .values(**values)
            .returning(*_SIGNED_IN)
            .execution_options(synchronize_session=False)
        )
    ).first()
    return _signed_in(row) if row else None


async def record_failure(session: AsyncSession, account_id: uuid.UUID) -> None:
    """Counted for the admins' information only: failures throttle clients, never lock."""
    await session.execute(
        update(Account)
        .where(Account.id == account_id)
        .values(failed_logins=Account.failed_logins + 1)
        .execution_options(synchronize_session=False)
    )


async def add_family(
    session: AsyncSession,
    *,
    session_id: uuid.UUID,
    account_id: uuid.UUID,
    now: datetime,
    expires_at: datetime,
) -> None:
    session.add(
        SignInSession(id=session_id, account_id=account_id, created_at=now, expires_at=expires_at)
    )
    await session.flush()


async def add_refresh_token(
    session: AsyncSession,
    *,
    digest: bytes,
    session_id: uuid.UUID,
    now: datetime,
    expires_at: datetime,
) -> None:
    session.add(
        RefreshToken(digest=digest, session_id=session_id, created_at=now, expires_at=expires_at)
    )
    await session.flush()


async def use_refresh_token(
    session: AsyncSession, digest: bytes, *, now: datetime
) -> uuid.UUID | None:
    """Marks a live, unused token used and returns its family; None when it is not one. One
    statement, so of two concurrent uses exactly one wins."""
    return await session.scalar(
        update(RefreshToken)
        .where(
            RefreshToken.digest == digest,
            RefreshToken.used_at.is_(None),
            RefreshToken.expires_at > now,
        )
        .values(used_at=now)
        .returning(RefreshToken.session_id)
        .execution_options(synchronize_session=False)
    )


async def used_refresh_token_family(
    session: AsyncSession, digest: bytes, *, now: datetime
) -> uuid.UUID | None:
    """The family of a token that was already used (and has not lapsed): a reuse."""
    return await session.scalar(
        select(RefreshToken.session_id).where(
            RefreshToken.digest == digest,
            RefreshToken.used_at.is_not(None),
            RefreshToken.expires_at > now,
        )
    )


async def family_of(session: AsyncSession, session_id: uuid.UUID) -> Family | None:
    row = (
        await session.execute(
            select(
                SignInSession.created_at,
                SignInSession.revoked_at,
                Account.active,
                Account.tokens_valid_after,
                *_SIGNED_IN,
            )
            .join(Account, Account.id == SignInSession.account_id)
            .where(SignInSession.id == session_id)
        )
    ).first()
    if row is None:
        return None
    return Family(
        created_at=row.created_at,
        revoked_at=row.revoked_at,
        account_active=row.active,
        tokens_valid_after=row.tokens_valid_after,
        account=_signed_in(row),
    )


async def family_of_token(session: AsyncSession, digest: bytes) -> uuid.UUID | None:
    return await session.scalar(
        select(RefreshToken.session_id).where(RefreshToken.digest == digest)
    )


async def extend_family(
    session: AsyncSession, session_id: uuid.UUID, *, now: datetime, expires_at: datetime
) -> None:
    await session.execute(
        update(SignInSession)
        .where(SignInSession.id == session_id)
        .values(refreshed_at=now, expires_at=expires_at)
        .execution_options(synchronize_session=False)
    )


async def revoke_family(
    session: AsyncSession, session_id: uuid.UUID, *, reason: str, now: datetime
) -> bool:
    """Ends a family (no token of it refreshes again); False when it had already ended."""
    revoked = await session.scalar(
        update(SignInSession)
        .where(SignInSession.id == session_id, SignInSession.revoked_at.is_(None))
        .values(revoked_at=now, revoked_reason=reason)
        .returning(SignInSession.id)
        .execution_options(synchronize_session=False)
    )
    return revoked is not None


@dataclass(frozen=True)
class Ended:
    """What ended lately: revoked families, and accounts whose sessions were cut (with whether
    the account is still active and the moment, as seconds since the epoch)."""

    sessions: frozenset[str]
    accounts: dict[str, tuple[bool, float]]


async def ended_within(session: AsyncSession, *, seconds: float) -> Ended:
    """Families revoked and accounts cut in the last `seconds` (by the database's clock):
    older ones cannot matter, as no token the gateway accepts is that old."""
    since = func.now() - func.make_interval(0, 0, 0, 0, 0, 0, seconds)
    revoked = await session.scalars(
        select(SignInSession.id).where(SignInSession.revoked_at > since)
    )
    accounts = await session.execute(
        select(Account.id, Account.active, Account.tokens_valid_after).where(
            Account.tokens_valid_after > since
        )
    )
    return Ended(
        sessions=frozenset(str(sid) for sid in revoked),
        accounts={
            str(row.id): (row.active, row.tokens_valid_after.timestamp()) for row in accounts
        },
    )


def _signed_in(row: Any) -> SignedInAccount:  # a Row of the _SIGNED_IN columns
    return SignedInAccount(
        id=row.id,
        role=row.role,
        org_path=list(row.org_path),
        name=row.name,
        teacher_id=row.teacher_id,
    )
