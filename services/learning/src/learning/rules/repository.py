"""SQL of rules."""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy import text
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from learning.rules.models import ProjectRules


async def get(session: AsyncSession, project_id: uuid.UUID) -> ProjectRules | None:
    return await session.get(ProjectRules, project_id)


async def get_versioned(
    session: AsyncSession, project_id: uuid.UUID
) -> tuple[dict[str, Any], int, str] | None:
    """The project's rule-set document, year and version (the row's xmin, new on every write)."""
    row = (
        await session.execute(
            text(
                "SELECT ruleset, year, xmin::text AS version FROM learning.project_rules "
                "WHERE project_id = :p"
            ),
            {"p": project_id},
        )
    ).one_or_none()
    return (row.ruleset, row.year, row.version) if row else None


async def put(
    session: AsyncSession,
    *,
    project_id: uuid.UUID,
    year: int,
    code: str,
    ruleset: dict[str, Any],
    assigned_by: str,
) -> ProjectRules:
    values = {"year": year, "ruleset_code": code, "ruleset": ruleset, "assigned_by": assigned_by}
    stmt = insert(ProjectRules).values(project_id=project_id, **values)
    await session.execute(
        stmt.on_conflict_do_update(index_elements=[ProjectRules.project_id], set_=values)
    )
    row = await session.get(ProjectRules, project_id, populate_existing=True)
    assert row is not None
    return row
