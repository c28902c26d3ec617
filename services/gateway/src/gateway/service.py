"""Account use cases (账号): create an account (the internal path of the demo loader and tests;
admins open accounts through gateway.accounts; sign-in is gateway.signin). No FastAPI here,
and nothing commits: the boundary does."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import UTC, datetime

from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from gateway import repository as repo
from gateway.accounts.errors import TeacherHasAccount
from gateway.errors import InvalidAccount, UsernameTaken
from gateway.models import Account
from gateway.passwords import hash_password_async
from yanxiu.kit.auth import Role


def normalise_username(username: str) -> str:
    return username.strip().lower()


async def create_account(
    session: AsyncSession,
    *,
    username: str,
    password: str,
    role: Role | str,
    org_path: Sequence[str],
    name: str,
    teacher_id: uuid.UUID | str | None = None,
    active: bool = True,
) -> Account:
    """开通账号: a login with a role and the org path its tokens are scoped to."""
    login = normalise_username(username)
    if not login or not password:
        raise InvalidAccount("用户名和密码不能为空", "Username and password are required")
    try:
        role = Role(role)
    except ValueError as exc:
        raise InvalidAccount(f"未知角色：{role}", f"Unknown role: {role}") from exc
    # Hashed before the lookup, so no database connection waits on argon2.
    password_hash = await hash_password_async(password)
    if await repo.find_by_username(session, login):
        raise UsernameTaken()
    account = Account(
        id=uuid.uuid4(),
        username=login,
        password_hash=password_hash,
        role=role.value,
        org_path=list(org_path),
        name=name.strip(),
        teacher_id=uuid.UUID(str(teacher_id)) if teacher_id else None,
        active=active,
        failed_logins=0,
        created_at=datetime.now(UTC),
    )
    repo.add(session, account)
    try:
        await session.flush()
    except IntegrityError as exc:
        # A twin request won the race between the check above and this insert.
        if "uq_accounts_teacher" in str(exc.orig):
            raise TeacherHasAccount() from exc
        raise UsernameTaken() from exc
    return account
