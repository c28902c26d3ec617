"""The roster's SQL: learning's plans of one project, by county digest and by keyset page."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from typing import cast

from sqlalchemy import Table
from sqlalchemy.ext.asyncio import AsyncSession

from learning.models import Plan
from yanxiu.kit import roster
from yanxiu.kit.roster import Digest, RosterColumns, RosterEntry

PLANS = RosterColumns(
    source=cast(Table, Plan.__table__),
    teacher_id=Plan.teacher_id,
    province_id=Plan.province_id,
    city_id=Plan.city_id,
    county_id=Plan.county_id,
    school_id=Plan.school_id,
    status=Plan.status,
    project_id=Plan.project_id,
    registration_id=Plan.registration_id,
)


async def digests(
    session: AsyncSession, *, project_id: uuid.UUID, scope: Sequence[str], prefix: int
) -> list[Digest]:
    stmt = roster.digests_query(PLANS, project_id=project_id, scope=scope, prefix=prefix)
    return roster.digests_of((await session.execute(stmt)).all(), prefix)


async def page(
    session: AsyncSession,
    *,
    project_id: uuid.UUID,
    scope: Sequence[str],
    id_from: uuid.UUID | None,
    id_to: uuid.UUID | None,
    after: uuid.UUID | None,
    limit: int,
) -> list[RosterEntry]:
    stmt = roster.page_query(
        PLANS,
        project_id=project_id,
        scope=scope,
        id_from=id_from,
        id_to=id_to,
        after=after,
        limit=limit,
    )
    return roster.entries((await session.execute(stmt)).all())
