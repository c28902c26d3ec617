"""名册核对: the teachers credits knows under the caller's org path; only county, city and
province admins read it (the teacher's stored org path decides)."""

from __future__ import annotations

import uuid

from sqlalchemy.ext.asyncio import AsyncSession

from credits.roster import repository as repo
from yanxiu.kit.auth import Principal
from yanxiu.kit.roster import Digests, RosterPage, after_of, ensure_reader, page_of


async def digests(session: AsyncSession, *, actor: Principal, prefix: int) -> Digests:
    scope = ensure_reader(actor)
    return Digests(prefix=prefix, items=await repo.digests(session, scope=scope, prefix=prefix))


async def page(
    session: AsyncSession,
    *,
    actor: Principal,
    id_from: uuid.UUID | None,
    id_to: uuid.UUID | None,
    cursor: str | None,
    limit: int,
) -> RosterPage:
    scope = ensure_reader(actor)
    rows = await repo.page(
        session,
        scope=scope,
        id_from=id_from,
        id_to=id_to,
        after=after_of(cursor),
        limit=limit + 1,
    )
    return page_of(rows, limit)
