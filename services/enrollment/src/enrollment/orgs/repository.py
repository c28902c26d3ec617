"""SQL for orgs."""

from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from enrollment.models import Org


async def get_org(session: AsyncSession, org_id: str) -> Org | None:
    return await session.get(Org, org_id)


async def lock_org(session: AsyncSession, org_id: str) -> Org | None:
    """The org row, locked until commit: serialises the numbering of its new children."""
    return await session.scalar(select(Org).where(Org.id == org_id).with_for_update())


async def list_orgs(
    session: AsyncSession, *, parent_id: str | None, after: str | None, limit: int
) -> list[Org]:
    stmt = select(Org).order_by(Org.id).limit(limit)
    stmt = (
        stmt.where(Org.parent_id == parent_id) if parent_id else stmt.where(Org.parent_id.is_(None))
    )
    if after is not None:
        stmt = stmt.where(Org.id > after)
    return list((await session.scalars(stmt)).all())


async def child_named(session: AsyncSession, *, parent_id: str, name: str) -> Org | None:
    return await session.scalar(select(Org).where(Org.parent_id == parent_id, Org.name == name))


async def child_ids(session: AsyncSession, parent_id: str) -> list[str]:
    return list((await session.scalars(select(Org.id).where(Org.parent_id == parent_id))).all())


async def count_children(session: AsyncSession, parent_id: str) -> int:
    return int(await session.scalar(select(func.count()).where(Org.parent_id == parent_id)) or 0)


def add(session: AsyncSession, org: Org) -> None:
    session.add(org)
