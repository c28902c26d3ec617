"""名册核对: the caller's subtree of a project's plans; only county, city and province
admins read it, and only under their own org path (the plan's stored one decides)."""

from __future__ import annotations

import uuid

from sqlalchemy.ext.asyncio import AsyncSession

from learning.roster import repository as repo
from yanxiu.kit.auth import Principal
from yanxiu.kit.roster import Digests, RosterPage, after_of, ensure_reader, page_of


async def digests(
    session: AsyncSession, *, actor: Principal, project_id: uuid.UUID, prefix: int
) -> Digests:
    scope = ensure_reader(actor)
    items = await repo.digests(session, project_id=project_id, scope=scope, prefix=prefix)
    return Digests(prefix=prefix, items=items)


async def page(
    session: AsyncSession,
    *,
    actor: Principal,
    project_id: uuid.UUID,
    id_from: uuid.UUID | None,
    id_to: uuid.UUID | None,
    cursor: str | None,
    limit: int,
) -> RosterPage:
    scope = ensure_reader(actor)
    rows = await repo.page(
        session,
        project_id=project_id,
        scope=scope,
        id_from=id_from,
        id_to=id_to,
        after=after_of(cursor),
        limit=limit + 1,
    )
    return page_of(rows, limit)
