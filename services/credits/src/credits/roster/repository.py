"""The roster's SQL: credits' teachers, by county digest and by keyset page."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from typing import cast

from sqlalchemy import Table
from sqlalchemy.ext.asyncio import AsyncSession

from credits.ledger.models import Teacher
from yanxiu.kit import roster
from yanxiu.kit.roster import Digest, RosterColumns, RosterEntry

TEACHERS = RosterColumns(
    source=cast(Table, Teacher.__table__),
    teacher_id=Teacher.teacher_id,
    province_id=Teacher.province_id,
    city_id=Teacher.city_id,
    county_id=Teacher.county_id,
    school_id=Teacher.school_id,
)


async def digests(session: AsyncSession, *, scope: Sequence[str], prefix: int) -> list[Digest]:
    stmt = roster.digests_query(TEACHERS, project_id=None, scope=scope, prefix=prefix)
    return roster.digests_of((await session.execute(stmt)).all(), prefix)


async def page(
    session: AsyncSession,
    *,
    scope: Sequence[str],
    id_from: uuid.UUID | None,
    id_to: uuid.UUID | None,
    after: uuid.UUID | None,
    limit: int,
) -> list[RosterEntry]:
    stmt = roster.page_query(
        TEACHERS,
        project_id=None,
        scope=scope,
        id_from=id_from,
        id_to=id_to,
        after=after,
        limit=limit,
    )
    return roster.entries((await session.execute(stmt)).all())
