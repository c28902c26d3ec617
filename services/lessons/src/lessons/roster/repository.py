"""The roster's SQL: lessons' reviewers of one project, by county digest and by keyset page
(the primary key is (project, teacher): pages walk it in order)."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from typing import cast

from sqlalchemy import Table
from sqlalchemy.ext.asyncio import AsyncSession

from lessons.allocation.models import Reviewer
from yanxiu.kit import roster
from yanxiu.kit.roster import Digest, RosterColumns, RosterEntry

REVIEWERS = RosterColumns(
    source=cast(Table, Reviewer.__table__),
    teacher_id=Reviewer.teacher_id,
    province_id=Reviewer.province_id,
    city_id=Reviewer.city_id,
    county_id=Reviewer.county_id,
    school_id=Reviewer.school_id,
    status=Reviewer.status,
    project_id=Reviewer.project_id,
)


async def digests(
    session: AsyncSession, *, project_id: uuid.UUID, scope: Sequence[str], prefix: int
) -> list[Digest]:
    stmt = roster.digests_query(REVIEWERS, project_id=project_id, scope=scope, prefix=prefix)
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
        REVIEWERS,
        project_id=project_id,
        scope=scope,
        id_from=id_from,
        id_to=id_to,
        after=after,
        limit=limit,
    )
    return roster.entries((await session.execute(stmt)).all())
