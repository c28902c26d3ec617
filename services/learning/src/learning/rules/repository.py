"""SQL of rules."""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy import bindparam, func, literal_column, select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from learning.reading import prepared_tuples
from learning.rules.models import Project, ProjectRules
from yanxiu.kit.reads import Db, DriverReads, Prepared, by_key


async def get(db: Db, project_id: uuid.UUID) -> ProjectRules | None:
    return await by_key(db, ProjectRules, project_id)


_VERSIONED = Prepared(
    select(
        ProjectRules.ruleset, ProjectRules.year, literal_column("xmin::text").label("version")
    ).where(ProjectRules.project_id == bindparam("project_id"))
)


async def get_versioned(db: Db, project_id: uuid.UUID) -> tuple[dict[str, Any], int, str] | None:
    """The project's rule-set document, year and version (the row's xmin, new on every write)."""
    found = await prepared_tuples(db, _VERSIONED, project_id=project_id)
    if not found:
        return None
    ruleset, year, version = found[0]
    return ruleset, year, version


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


async def learn_project(
    session: AsyncSession,
    *,
    project_id: uuid.UUID,
    year: int,
    stage: str,
    owner_org_id: str | None,
    owner_org_path: list[str] | None,
    rule_set: str | None,
) -> None:
    """Stores or refreshes the project; an event that names no owner (or rule set) keeps the
    one learning already knows, so a replayed older event never unsets it."""
    stmt = insert(Project).values(
        project_id=project_id,
        year=year,
        stage=stage,
        owner_org_id=owner_org_id,
        owner_org_path=owner_org_path,
        rule_set=rule_set,
    )
    new = stmt.excluded
    await session.execute(
        stmt.on_conflict_do_update(
            index_elements=[Project.project_id],
            set_={
                "year": new.year,
                "stage": new.stage,
                "owner_org_id": func.coalesce(new.owner_org_id, Project.owner_org_id),
                "owner_org_path": func.coalesce(new.owner_org_path, Project.owner_org_path),
                "rule_set": func.coalesce(new.rule_set, Project.rule_set),
                "updated_at": func.now(),
            },
        )
    )


async def get_project(db: Db, project_id: uuid.UUID) -> Project | None:
    if isinstance(db, DriverReads):
        return await db.get(Project, project_id)
    return await db.get(Project, project_id, populate_existing=True)
