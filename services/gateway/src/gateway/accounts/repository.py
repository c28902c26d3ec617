"""The SQL of the account resource: scoped listing and the accounts bound to a teacher."""

from __future__ import annotations

import uuid
from collections.abc import Sequence

from sqlalchemy import Text, cast, select
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.ext.asyncio import AsyncSession

from gateway.models import Account
from yanxiu.kit.auth import Role


async def list_accounts(
    session: AsyncSession,
    *,
    scope: Sequence[str],
    role: Role | None,
    org_id: str | None,
    active: bool | None,
    username_prefix: str | None,
    after: str | None,
    limit: int,
) -> list[Account]:
    """Accounts whose org path starts with `scope`, by username (the keyset)."""
    stmt = (
        select(Account)
        # The containment test lets the GIN index on org_path find the subtree; the prefix
        # test keeps the exact rule (the unit at the right depth).
        .where(Account.org_path.contains(cast([scope[-1]], ARRAY(Text))))
        .where(Account.org_path[1 : len(scope)] == cast(list(scope), ARRAY(Text)))
        .order_by(Account.username)
        .limit(limit)
    )
    if role is not None:
        stmt = stmt.where(Account.role == role.value)
    if org_id is not None:
        # Org ids are unique across the tree: holding the id means lying under that org.
        stmt = stmt.where(Account.org_path.contains(cast([org_id], ARRAY(Text))))
    if active is not None:
        stmt = stmt.where(Account.active.is_(active))
    if username_prefix:
        stmt = stmt.where(Account.username.startswith(username_prefix, autoescape=True))
    if after is not None:
        stmt = stmt.where(Account.username > after)
    return list((await session.scalars(stmt)).all())


async def get_account(
    session: AsyncSession, account_id: uuid.UUID, *, lock: bool = False
) -> Account | None:
    stmt = select(Account).where(Account.id == account_id)
    return await session.scalar(stmt.with_for_update() if lock else stmt)


async def teacher_has_account(session: AsyncSession, teacher_id: uuid.UUID) -> bool:
    found = await session.scalar(
        select(Account.id)
        .where(Account.teacher_id == teacher_id, Account.role == Role.teacher.value)
        .limit(1)
    )
    return found is not None


async def teacher_accounts(session: AsyncSession, teacher_id: uuid.UUID) -> list[Account]:
    """The teacher accounts bound to a teacher, locked for the change an event brings."""
    stmt = (
        select(Account)
        .where(Account.teacher_id == teacher_id, Account.role == Role.teacher.value)
        .order_by(Account.id)
        .with_for_update()
    )
    return list((await session.scalars(stmt)).all())
