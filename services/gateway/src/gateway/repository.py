"""All SQL of the gateway."""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta

from sqlalchemy import case, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from gateway.models import Account


async def find_by_username(session: AsyncSession, username: str) -> Account | None:
    return await session.scalar(select(Account).where(Account.username == username))


async def get_account(session: AsyncSession, account_id: uuid.UUID) -> Account | None:
    return await session.get(Account, account_id)


def add(session: AsyncSession, row: object) -> None:
    session.add(row)


async def record_failed_login(
    session: AsyncSession,
    account_id: uuid.UUID,
    *,
    now: datetime,
    max_failures: int,
    lock_for: timedelta,
) -> None:
    """One more failure, counted in the database (so concurrent attempts all count); the
    failure that reaches the limit locks the account and starts a new count."""
    reached = Account.failed_logins + 1 >= max_failures
    await session.execute(
        update(Account)
        .where(Account.id == account_id)
        .values(
            failed_logins=case((reached, 0), else_=Account.failed_logins + 1),
            locked_until=case((reached, now + lock_for), else_=Account.locked_until),
        )
        .execution_options(synchronize_session=False)
    )


async def record_login(
    session: AsyncSession, account_id: uuid.UUID, *, now: datetime, new_hash: str | None
) -> None:
    values: dict[str, object] = {"failed_logins": 0, "locked_until": None, "last_login_at": now}
    if new_hash is not None:
        values["password_hash"] = new_hash
    await session.execute(
        update(Account)
        .where(Account.id == account_id)
        .values(**values)
        .execution_options(synchronize_session=False)
    )
