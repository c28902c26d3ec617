"""Accounts (账号): how passwords are kept and how sign-in failures lock an account."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from argon2 import PasswordHasher
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from gateway import service
from gateway.errors import InvalidAccount, UsernameTaken

PASSWORD = "研修-Passw0rd!"


async def test_passwords_are_stored_as_argon2_hashes(
    add_account: Callable[..., Any], session_factory: Callable[[], AsyncSession]
) -> None:
    account = await add_account("li.hua", password=PASSWORD)
    async with session_factory() as session:
        stored = await session.scalar(
            text("SELECT password_hash FROM gateway.accounts WHERE id = :id"), {"id": account.id}
        )
    assert stored.startswith("$argon2id$")
    assert PASSWORD not in stored
    assert PasswordHasher().verify(stored, PASSWORD)


async def test_usernames_are_unique_whatever_their_case(
    add_account: Callable[..., Any],
) -> None:
    await add_account("ZhangSan")
    with pytest.raises(UsernameTaken):
        await add_account("  zhangsan ")


async def test_account_with_unknown_role_is_refused(add_account: Callable[..., Any]) -> None:
    with pytest.raises(InvalidAccount):
        await add_account(role="headmaster")


async def test_repeated_wrong_passwords_lock_the_account_for_a_while(
    add_account: Callable[..., Any], session_factory: Callable[[], AsyncSession]
) -> None:
    await add_account("locked.out")
    now = datetime.now(UTC)
    policy = {"max_failures": 3, "lockout_seconds": 600}
    async with session_factory() as session:
        for _ in range(3):
            assert not await service.authenticate(
                session, username="locked.out", password="wrong", now=now, **policy
            )
        await session.commit()
    async with session_factory() as session:
        # Locked: even the right password is refused, the same way as a wrong one.
        assert not await service.authenticate(
            session, username="locked.out", password=PASSWORD, now=now, **policy
        )
        later = now + timedelta(seconds=601)
        assert await service.authenticate(
            session, username="locked.out", password=PASSWORD, now=later, **policy
        )


async def test_successful_sign_in_resets_the_failure_count(
    add_account: Callable[..., Any], session_factory: Callable[[], AsyncSession]
) -> None:
    account = await add_account("reset.me")
    async with session_factory() as session:
        for _ in range(2):
            await service.authenticate(session, username="reset.me", password="wrong")
        assert await service.authenticate(session, username="reset.me", password=PASSWORD)
        await session.commit()
    async with session_factory() as session:
        row = (
            await session.execute(
                text(
                    "SELECT failed_logins, locked_until, last_login_at FROM gateway.accounts"
                    " WHERE id = :id"
                ),
                {"id": account.id},
            )
        ).one()
    assert row.failed_logins == 0 and row.locked_until is None and row.last_login_at is not None


async def test_inactive_account_cannot_sign_in(
    add_account: Callable[..., Any], session_factory: Callable[[], AsyncSession]
) -> None:
    await add_account("gone", active=False)
    async with session_factory() as session:
        assert await service.authenticate(session, username="gone", password=PASSWORD) is None
