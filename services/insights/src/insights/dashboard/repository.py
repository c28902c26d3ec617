"""SQL of the dashboards: tallies by org, their children, the days, and the facts behind them.

Every read here is bounded by the org tree, not by the number of teachers: an org's numbers
are its own tally rows (one per metric × stage × subject × rural/urban), its children's are
found by `parent_id`, its trend by day."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import select, text
from sqlalchemy.ext.asyncio import AsyncSession

from insights.models import Project

LEVEL_COLUMNS = {1: "province_id", 2: "city_id", 3: "county_id", 4: "school_id"}

_FILTERS = (
    "AND (CAST(:stage AS text) IS NULL OR stage = :stage) "
    "AND (CAST(:subject AS text) IS NULL OR subject = :subject) "
    "AND (CAST(:area AS text) IS NULL OR area = :area) "
)


async def projects(session: AsyncSession) -> Sequence[Project]:
    rows = await session.scalars(select(Project).order_by(Project.year.desc(), Project.name))
    return list(rows.all())


async def project(session: AsyncSession, project_id: uuid.UUID) -> Project | None:
    return await session.get(Project, project_id)


async def org_path(session: AsyncSession, scope: str, org_id: str) -> list[tuple[str, int]]:
    """[(org id, level)] from the province down to `org_id`, as the tallies know it."""
    rows = await session.execute(
        text(
            "WITH RECURSIVE up(org_id, level, parent_id) AS ("
            "(SELECT org_id, level, parent_id FROM insights.tallies "
            "WHERE scope = :scope AND org_id = :org LIMIT 1) "
            "UNION ALL SELECT t.org_id, t.level, t.parent_id FROM up, LATERAL ("
            "SELECT org_id, level, parent_id FROM insights.tallies "
            "WHERE scope = :scope AND org_id = up.parent_id LIMIT 1) t "
            "WHERE up.parent_id <> '') "
            "SELECT org_id, level FROM up ORDER BY level"
        ),
        {"scope": scope, "org": org_id},
    )
    return [(o, int(lv)) for o, lv in rows.all()]


async def totals(
    session: AsyncSession, scope: str, org_id: str, filters: dict[str, str | None]
) -> dict[str, Decimal]:
    rows = await session.execute(
        text(
            "SELECT metric, sum(value) FROM insights.tallies "
            "WHERE scope = :scope AND org_id = :org " + _FILTERS + "GROUP BY metric"
        ),
        {"scope": scope, "org": org_id, **filters},
    )
    return {m: Decimal(v) for m, v in rows.all()}


async def children(
    session: AsyncSession, scope: str, parent_id: str, filters: dict[str, str | None]
) -> dict[tuple[str, int], dict[str, Decimal]]:
    """{(child org, level): {metric: value}} of the orgs one level below `parent_id`."""
    rows = await session.execute(
        text(
            "SELECT org_id, level, metric, sum(value) FROM insights.tallies "
            "WHERE scope = :scope AND parent_id = :parent "
            + _FILTERS
            + "GROUP BY org_id, level, metric"
        ),
        {"scope": scope, "parent": parent_id, **filters},
    )
    out: dict[tuple[str, int], dict[str, Decimal]] = {}
    for org, level, metric, value in rows.all():
        out.setdefault((org, int(level)), {})[metric] = Decimal(value)
    return out


async def days(
    session: AsyncSession, scope: str, org_id: str, metrics: Sequence[str]
) -> list[tuple[str, Any, Decimal]]:
    rows = await session.execute(
        text(
            "SELECT metric, day, value FROM insights.daily "
            "WHERE scope = :scope AND org_id = :org AND metric = ANY(:metrics) ORDER BY day"
        ),
        {"scope": scope, "org": org_id, "metrics": list(metrics)},
    )
    return [(m, d, Decimal(v)) for m, d, v in rows.all()]


_TEACHER_WHEN = {
    "registered": "TRUE",
    "plan_active": "plan_status = 'active'",
    "started": "started_at IS NOT NULL",
    "requirements_met": "met_at IS NOT NULL",
    "not_started": "started_at IS NULL",
    "not_met": "met_at IS NULL",
}


async def teachers(
    session: AsyncSession,
    *,
    project_id: uuid.UUID,
    level: int,
    org_id: str,
    metric: str,
    after: uuid.UUID | None,
    limit: int,
) -> list[Any]:
    """The registered teachers behind one funnel number, in teacher-id order."""
    column = LEVEL_COLUMNS[level]
    rows = await session.execute(
        text(
            "SELECT teacher_id, teacher_name, school_id, stage, subject, hours, started_at, "
            "met_at FROM insights.standings "
            f"WHERE project_id = :project AND {column} = :org AND registered_at IS NOT NULL "
            f"AND {_TEACHER_WHEN[metric]} "
            "AND (CAST(:after AS uuid) IS NULL OR teacher_id > :after) "
            "ORDER BY teacher_id LIMIT :limit"
        ),
        {"project": project_id, "org": org_id, "after": after, "limit": limit},
    )
    return list(rows.all())


async def waiting(
    session: AsyncSession,
    *,
    statuses: Sequence[str],
    level: int,
    org_id: str,
    after: tuple[datetime, uuid.UUID] | None,
    limit: int,
) -> list[Any]:
    """Offline records at the given steps under an org, oldest first (they have waited
    longest)."""
    column = LEVEL_COLUMNS[level]
    rows = await session.execute(
        text(
            "SELECT record_id, teacher_id, year, status, category, hours, school_id, changed_at "
            "FROM insights.offline_records "
            f"WHERE status = ANY(:statuses) AND {column} = :org "
            "AND (CAST(:after_at AS timestamptz) IS NULL "
            "OR (changed_at, record_id) > (:after_at, CAST(:after_id AS uuid))) "
            "ORDER BY changed_at, record_id LIMIT :limit"
        ),
        {
            "statuses": list(statuses),
            "org": org_id,
            "after_at": after[0] if after else None,
            "after_id": after[1] if after else None,
            "limit": limit,
        },
    )
    return list(rows.all())
