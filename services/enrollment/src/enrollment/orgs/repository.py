"""SQL for orgs."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from enrollment.models import Org


async def get_org(session: AsyncSession, org_id: str) -> Org | None:
    return await session.get(Org, org_id)


async def list_orgs(session: AsyncSession, *, parent_id: str | None, limit: int) -> list[Org]:
    stmt = select(Org).order_by(Org.id).limit(limit)
    stmt = (
        stmt.where(Org.parent_id == parent_id) if parent_id else stmt.where(Org.parent_id.is_(None))
    )
    return list((await session.scalars(stmt)).all())
