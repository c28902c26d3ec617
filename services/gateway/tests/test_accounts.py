"""Accounts (账号): how passwords and usernames are kept (sign-in: test_signin.py)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from argon2 import PasswordHasher
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

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
