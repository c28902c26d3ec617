"""组织机构: the province → city → county → school tree and its admins.
Use cases; nothing commits here."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from enrollment.models import Org
from enrollment.orgs import repository as repo
from yanxiu.kit.auth import Principal


def org_path(org: Org) -> list[str]:
    return [p for p in (org.province_id, org.city_id, org.county_id, org.id) if p is not None][
        : {"province": 1, "city": 2, "county": 3, "school": 4}[org.level]
    ]


async def list_orgs(
    session: AsyncSession, *, actor: Principal, parent_id: str | None, limit: int
) -> list[Org]:
    """Children of an org that the caller may see: its subtree and the path above it."""
    rows = await repo.list_orgs(session, parent_id=parent_id, limit=limit)
    return [
        o
        for o in rows
        if actor.covers(org_path(o)) or tuple(org_path(o)) == actor.org_path[: len(org_path(o))]
    ]
