"""名册核对: the teachers credits knows under the caller's org path; only county, city and
province admins read it (the teacher's stored org path decides)."""

from __future__ import annotations

import uuid

from sqlalchemy.ext.asyncio import AsyncSession

from credits.roster.repository import TEACHERS
from yanxiu.kit.auth import Principal
from yanxiu.kit.roster import Digests, RosterPage, digests_for, page_for


async def digests(session: AsyncSession, *, actor: Principal, prefix: int) -> Digests:
    return await digests_for(session, TEACHERS, actor=actor, prefix=prefix)


async def page(
    session: AsyncSession,
    *,
    actor: Principal,
    id_from: uuid.UUID | None,
    id_to: uuid.UUID | None,
    cursor: str | None,
    limit: int,
) -> RosterPage:
    return await page_for(
        session, TEACHERS, actor=actor, id_from=id_from, id_to=id_to, cursor=cursor, limit=limit
    )
