"""SQL of the dashboards, read on the driver (kit.reads: a safe request, no ORM session):
tallies by org, their children, the days, and the facts behind them.

Every read here is bounded by the org tree, not by the number of teachers. Without a filter,
an org's numbers are its rows of `tally_totals` (one per metric), its children's the rows whose
`parent_id` is the org; with a stage, subject or rural filter, the `tallies` they roll up.
Statements are prepared once (`Prepared`): compiling is not paid per request."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import text

from insights.feed import tally
from yanxiu.kit.reads import DriverReads, Prepared

LEVEL_COLUMNS = {1: "province_id", 2: "city_id", 3: "county_id", 4: "school_id"}
Values = dict[str, dict[str, Decimal]]  # scope → metric → value

_PROJECTS = Prepared(
    text("SELECT project_id, name, year, stage FROM insights.projects ORDER BY year DESC, name")
)
_PROJECT = Prepared(
    text("SELECT project_id, name, year, stage FROM insights.projects WHERE project_id = :id")
)
_PATH = Prepared(
    text(
        "WITH RECURSIVE up(org_id, level, parent_id) AS ("
        "(SELECT org_id, level, parent_id FROM insights.tally_totals "
        "WHERE scope = :scope AND org_id = :org LIMIT 1) "
        "UNION ALL SELECT t.org_id, t.level, t.parent_id FROM up, LATERAL ("
        "SELECT org_id, level, parent_id FROM insights.tally_totals "
        "WHERE scope = :scope AND org_id = up.parent_id LIMIT 1) t "
        "WHERE up.parent_id <> '') "
        "SELECT org_id, level FROM up ORDER BY level"
    )
)
_TOTALS = Prepared(
    text(
        "SELECT scope, metric, value FROM insights.tally_totals "
        "WHERE scope = ANY(:scopes) AND org_id = :org"
    )
)
_FILTERED = (
    "AND (CAST(:stage AS text) IS NULL OR stage = :stage) "
    "AND (CAST(:subject AS text) IS NULL OR subject = :subject) "
    "AND (CAST(:area AS text) IS NULL OR area = :area) "
)
_TOTALS_FILTERED = Prepared(
    text(
        "SELECT scope, metric, sum(value) AS value FROM insights.tallies "
        "WHERE scope = :scope AND org_id = :org " + _FILTERED + "GROUP BY scope, metric"
    )
)
# A child org's row of the drill-down table, one row per child. Without a filter, the children's
# lines in `drilldown_rows` (one per child and scope, a column per number: a county's 100
# schools are 200 lines to add up, no pivot); with one, the tallies pivoted in SQL. Metric
# names differ between the project's scope and the year's, so a FILTER on the metric alone
# picks the right one.
_COLUMNS = tally.DRILLDOWN_COLUMNS
CHILD_METRICS = [m for metrics in _COLUMNS.values() for m in metrics]
_PIVOT = ", ".join(
    f"coalesce(sum(value) FILTER (WHERE metric IN ({', '.join(repr(m) for m in names)})), 0)"
    f"::bigint AS {column}"
    for column, names in _COLUMNS.items()
)
_CHILDREN = Prepared(
    text(
        "SELECT org_id, min(level) AS level, "
        + ", ".join(f"sum({c})::bigint AS {c}" for c in _COLUMNS)
        + " FROM insights.drilldown_rows WHERE scope = ANY(:scopes) AND parent_id = :parent "
        "GROUP BY org_id ORDER BY org_id"
    )
)
_CHILDREN_FILTERED = Prepared(
    text(
        f"SELECT org_id, level, {_PIVOT} FROM ("
        "SELECT org_id, level, metric, value FROM insights.tallies "
        "WHERE scope = :scope AND parent_id = :parent AND metric = ANY(:metrics) "
        + _FILTERED
        + "UNION ALL SELECT org_id, level, metric, value FROM insights.tally_totals "
        "WHERE scope = :year_scope AND parent_id = :parent AND metric = ANY(:metrics)"
        ") AS t GROUP BY org_id, level ORDER BY org_id"
    )
)
_DAYS = Prepared(
    text(
        "SELECT metric, day, value FROM insights.daily "
        "WHERE scope = :scope AND org_id = :org AND metric = ANY(:metrics) ORDER BY day"
    )
)
_NAMES = Prepared(
    text(
        "SELECT org_id, name FROM insights.org_names "
        "WHERE org_id = ANY(:ids) AND fetched_at > :fresh_since"
    )
)
_TEACHER_WHEN = {
    "registered": "TRUE",
    "plan_active": "plan_status = 'active'",
    "started": "started_at IS NOT NULL",
    "requirements_met": "met_at IS NOT NULL",
    "not_started": "started_at IS NULL",
    "not_met": "met_at IS NULL",
}
_TEACHERS = {
    (level, metric): Prepared(
        text(
            "SELECT teacher_id, teacher_name, school_id, stage, subject, started_at, met_at, "
            "(SELECT coalesce(sum(h.v::numeric), 0) FROM jsonb_each_text(hours) AS h(k, v)) "
            "AS hours FROM insights.standings "
            f"WHERE project_id = :project AND {column} = :org AND registered_at IS NOT NULL "
            f"AND {when} AND teacher_id > :after ORDER BY teacher_id LIMIT :limit"
        )
    )
    for level, column in LEVEL_COLUMNS.items()
    for metric, when in _TEACHER_WHEN.items()
}
_WAITING = {
    level: Prepared(
        text(
            "SELECT record_id, teacher_id, year, status, category, hours, school_id, "
            "changed_at FROM insights.offline_records "
            f"WHERE status = ANY(:statuses) AND {column} = :org "
            "AND (changed_at, record_id) > (:after_at, :after_id) "
            "ORDER BY changed_at, record_id LIMIT :limit"
        )
    )
    for level, column in LEVEL_COLUMNS.items()
}
_BEFORE_EVERY_ID = uuid.UUID(int=0)
_BEFORE_EVERY_TIME = datetime.fromisoformat("1970-01-01T00:00:00+00:00")


async def projects(db: DriverReads) -> list[Any]:
    return await db.records(_PROJECTS)


async def project(db: DriverReads, project_id: uuid.UUID) -> Any | None:
    return await db.record(_PROJECT, id=project_id)


async def org_path(db: DriverReads, scope: str, org_id: str) -> list[tuple[str, int]]:
    """[(org id, level)] from the province down to `org_id`, as the tallies know it."""
    rows = await db.records(_PATH, scope=scope, org=org_id)
    return [(r["org_id"], int(r["level"])) for r in rows]


def _values(rows: Sequence[Any]) -> Values:
    out: Values = {}
    for r in rows:
        out.setdefault(r["scope"], {})[r["metric"]] = Decimal(r["value"])
    return out


async def totals(
    db: DriverReads,
    *,
    project_scope: str,
    year_scope: str,
    org_id: str,
    filters: dict[str, str | None],
) -> Values:
    """The org's numbers of both scopes; a filter narrows the project's (the year's numbers
    are not split by stage or subject)."""
    if not any(filters.values()):
        return _values(await db.records(_TOTALS, scopes=[project_scope, year_scope], org=org_id))
    values = _values(await db.records(_TOTALS, scopes=[year_scope], org=org_id))
    rows = await db.records(_TOTALS_FILTERED, scope=project_scope, org=org_id, **filters)
    values.update(_values(rows))
    return values


async def children(
    db: DriverReads,
    *,
    project_scope: str,
    year_scope: str,
    parent_id: str,
    filters: dict[str, str | None],
) -> list[Any]:
    """The orgs one level below `parent_id`, each with the drill-down table's numbers; a
    filter narrows the project's (the year's numbers are not split by stage or subject)."""
    if not any(filters.values()):
        return await db.records(_CHILDREN, scopes=[project_scope, year_scope], parent=parent_id)
    return await db.records(
        _CHILDREN_FILTERED,
        scope=project_scope,
        year_scope=year_scope,
        parent=parent_id,
        metrics=CHILD_METRICS,
        **filters,
    )


async def days(
    db: DriverReads, scope: str, org_id: str, metrics: Sequence[str]
) -> list[tuple[str, Any, Decimal]]:
    rows = await db.records(_DAYS, scope=scope, org=org_id, metrics=list(metrics))
    return [(r["metric"], r["day"], Decimal(r["value"])) for r in rows]


async def names(db: DriverReads, org_ids: Sequence[str], fresh_since: datetime) -> dict[str, str]:
    rows = await db.records(_NAMES, ids=list(org_ids), fresh_since=fresh_since)
    return {r["org_id"]: r["name"] for r in rows}


async def teachers(
    db: DriverReads,
    *,
    project_id: uuid.UUID,
    level: int,
    org_id: str,
    metric: str,
    after: uuid.UUID | None,
    limit: int,
) -> list[Any]:
    """The registered teachers behind one funnel number, in teacher-id order."""
    return await db.records(
        _TEACHERS[(level, metric)],
        project=project_id,
        org=org_id,
        after=after or _BEFORE_EVERY_ID,
        limit=limit,
    )


async def waiting(
    db: DriverReads,
    *,
    statuses: Sequence[str],
    level: int,
    org_id: str,
    after: tuple[datetime, uuid.UUID] | None,
    limit: int,
) -> list[Any]:
    """Offline records at the given steps under an org, oldest first (they have waited
    longest)."""
    at, record = after or (_BEFORE_EVERY_TIME, _BEFORE_EVERY_ID)
    return await db.records(
        _WAITING[level],
        statuses=list(statuses),
        org=org_id,
        after_at=at,
        after_id=record,
        limit=limit,
    )
