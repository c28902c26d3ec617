"""看板 use cases: a project's funnel at one org, its child orgs, its trend, the teachers behind
a number, the offline records waiting for this admin.

Who reads what: administrators (province, city, county, school), each within their own
subtree. The org asked for is placed in the tree from the tallies insights stored (the places
the events carried), never from the request; an org outside the caller's subtree is refused."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any

from pydantic import TypeAdapter

from insights.dashboard import repository as repo
from insights.dashboard.errors import (
    DashboardNotAllowed,
    OrgNotFound,
    ProjectNotFound,
)
from insights.dashboard.memo import DashboardMemo
from insights.dashboard.org_names import OrgNames
from insights.dashboard.schemas import (
    Funnel,
    LessonCounts,
    Level,
    OrgBreakdown,
    OrgRef,
    OrgRow,
    Overview,
    ProjectList,
    ProjectRead,
    ReviewCounts,
    TeacherPage,
    TeacherRow,
    Trend,
    TrendPoint,
    Waiting,
    WaitingPage,
    WaitingRecord,
)
from insights.feed import tally
from insights.feed.tally import plain
from yanxiu.kit.auth import Principal, Role
from yanxiu.kit.errors import OutOfScope
from yanxiu.kit.pagination import (
    InvalidCursor,
    decode_cursor,
    decode_uuid_cursor,
    encode_cursor,
)
from yanxiu.kit.reads import DriverReads

LEVELS: dict[int, Level] = {1: "province", 2: "city", 3: "county", 4: "school"}
RECORD_STEPS_ZH = {"submitted": "待初审", "county_passed": "待审批"}
# What waits for whom: the county reviews (初审), the city approves (审批).
WAITING_FOR = {
    Role.county_admin: ("submitted",),
    Role.city_admin: ("county_passed",),
}


@dataclass(frozen=True)
class Filters:
    stage: str | None = None
    subject: str | None = None
    rural: bool | None = None

    def params(self) -> dict[str, str | None]:
        area = None if self.rural is None else ("r" if self.rural else "u")
        return {"stage": self.stage, "subject": self.subject, "area": area}


@dataclass(frozen=True)
class Reading:
    """What a dashboard request reads with: the driver, the process's memo, org names."""

    db: DriverReads
    memo: DashboardMemo
    names: OrgNames


@dataclass(frozen=True)
class Place:
    org_id: str
    level: int
    path: list[str]


NO_FILTER = Filters().params()
ORG_ROWS = TypeAdapter(list[OrgRow])


def ensure_admin(actor: Principal) -> None:
    if not actor.is_admin or not actor.org_path:
        raise DashboardNotAllowed()


async def _project(r: Reading, project_id: uuid.UUID) -> ProjectRead:
    found = r.memo.projects.get(project_id)
    if found is None:
        row = await repo.project(r.db, project_id)
        if row is None:
            raise ProjectNotFound()
        found = _project_read(row)
        r.memo.projects.put(project_id, found)
    assert isinstance(found, ProjectRead)
    return found


async def _place(r: Reading, actor: Principal, scope: str, org_id: str | None) -> Place:
    """Where the org asked for sits (the caller's own org by default), checked against the
    caller's subtree. The tree is the one the tallies stored (the places the events carried)."""
    own = actor.org_path[-1]
    target = org_id or own
    path = r.memo.paths.get(target)
    if path is None:
        path = await repo.org_path(r.db, scope, target)
        if path:
            r.memo.paths.put(target, path)
    if not path:
        if target != own:
            raise OrgNotFound()
        path = [(org, level + 1) for level, org in enumerate(actor.org_path)]
    ids = [org for org, _ in path]
    if not actor.covers(ids):
        raise OutOfScope()
    return Place(org_id=target, level=path[-1][1], path=ids)


def _count(values: dict[str, Decimal], metric: str) -> int:
    return int(values.get(metric, 0))


def _project_read(p: Any) -> ProjectRead:
    return ProjectRead(project_id=p["project_id"], name=p["name"], year=p["year"], stage=p["stage"])


async def list_projects(r: Reading, *, actor: Principal) -> ProjectList:
    ensure_admin(actor)
    return ProjectList(items=[_project_read(p) for p in await repo.projects(r.db)])


async def overview(
    r: Reading,
    *,
    actor: Principal,
    project_id: uuid.UUID,
    org_id: str | None,
    filters: Filters,
) -> Overview:
    ensure_admin(actor)
    project = await _project(r, project_id)
    scope = tally.project_scope(project_id)
    place = await _place(r, actor, scope, org_id)
    year_scope = tally.year_scope(project.year)
    # The year's numbers are not split by stage or subject (credits' events do not say).
    both = await repo.totals(
        r.db,
        project_scope=scope,
        year_scope=year_scope,
        org_id=place.org_id,
        filters=filters.params(),
    )
    values, year = both.get(scope, {}), both.get(year_scope, {})
    shown = place.path[len(actor.org_path) - 1 :]
    labels = await r.names.names(shown)
    path = [
        OrgRef(org_id=o, name=labels[o], level=LEVELS[len(actor.org_path) + i])
        for i, o in enumerate(shown)
    ]
    hours = {
        m.removeprefix(tally.HOURS): plain(v)
        for m, v in sorted(values.items())
        if m.startswith(tally.HOURS)
    }
    return Overview(
        project=project,
        org=path[-1],
        path=path,
        funnel=Funnel(
            registered=_count(values, tally.REGISTERED),
            plan_active=_count(values, tally.PLAN_ACTIVE),
            started=_count(values, tally.STARTED),
            requirements_met=_count(values, tally.REQUIREMENTS_MET),
            credits_registered=_count(year, tally.CREDITS_REGISTERED),
            year_complete=_count(year, tally.YEAR_COMPLETE),
            certificates_issued=_count(year, tally.CERTIFICATES_ISSUED),
        ),
        hours_by_category=hours,
        lessons=LessonCounts(
            submitted=_count(year, tally.LESSONS_SUBMITTED),
            school=_count(year, tally.LESSONS_AT + "school"),
            county=_count(year, tally.LESSONS_AT + "county"),
            city=_count(year, tally.LESSONS_AT + "city"),
            province=_count(year, tally.LESSONS_AT + "province"),
            awarded=_count(year, tally.LESSONS_AWARDED),
        ),
        reviews=ReviewCounts(
            assigned=_count(values, tally.REVIEWS_ASSIGNED),
            done=_count(values, tally.REVIEWS_DONE),
        ),
        offline_waiting=Waiting(
            county_review=_count(year, tally.OFFLINE + "submitted"),
            city_approval=_count(year, tally.OFFLINE + "county_passed"),
        ),
        as_of=datetime.now(UTC),
    )


async def breakdown(
    r: Reading,
    *,
    actor: Principal,
    project_id: uuid.UUID,
    org_id: str | None,
    filters: Filters,
) -> OrgBreakdown:
    """The org's children (a province's cities, a city's counties, a county's schools)."""
    ensure_admin(actor)
    project = await _project(r, project_id)
    scope = tally.project_scope(project_id)
    place = await _place(r, actor, scope, org_id)
    found = await repo.children(
        r.db,
        project_scope=scope,
        year_scope=tally.year_scope(project.year),
        parent_id=place.org_id,
        filters=filters.params(),
    )
    labels = await r.names.names(
        [row["org_id"] for row in found] + [place.org_id], parent_id=place.org_id
    )
    # Validated in one call (pydantic-core): faster than building each row in Python.
    rows = ORG_ROWS.validate_python(
        [
            {
                **row,
                "name": labels.get(row["org_id"], row["org_id"]),
                "level": LEVELS[row["level"]],
                "has_children": row["level"] < 4,
                "met_rate": round(row["requirements_met"] / row["registered"], 4)
                if row["registered"]
                else None,
            }
            for row in found
        ]
    )
    rows.sort(key=lambda o: (o.met_rate is None, o.met_rate or 0, o.org_id))
    return OrgBreakdown(
        org=OrgRef(
            org_id=place.org_id,
            name=labels.get(place.org_id, place.org_id),
            level=LEVELS[place.level],
        ),
        items=rows,
    )


async def trend(
    r: Reading,
    *,
    actor: Principal,
    project_id: uuid.UUID,
    org_id: str | None,
    days: int,
    today: date,
) -> Trend:
    """Cumulative counts per day for the last `days` days (Asia/Shanghai), up to today."""
    ensure_admin(actor)
    await _project(r, project_id)
    scope = tally.project_scope(project_id)
    place = await _place(r, actor, scope, org_id)
    rows = await repo.days(r.db, scope, place.org_id, tally.PROJECT_FUNNEL)
    first = today - timedelta(days=days - 1)
    running = dict.fromkeys(tally.PROJECT_FUNNEL, Decimal(0))
    by_day: dict[date, dict[str, Decimal]] = {}
    for metric, day, value in rows:
        if day < first:
            running[metric] += value
        else:
            by_day.setdefault(day, {})[metric] = value
    points = []
    for i in range(days):
        day = first + timedelta(days=i)
        for metric, value in by_day.get(day, {}).items():
            running[metric] += value
        points.append(
            TrendPoint(
                day=day,
                registered=int(running[tally.REGISTERED]),
                plan_active=int(running[tally.PLAN_ACTIVE]),
                started=int(running[tally.STARTED]),
                requirements_met=int(running[tally.REQUIREMENTS_MET]),
            )
        )
    label = (await r.names.names([place.org_id]))[place.org_id]
    return Trend(
        org=OrgRef(org_id=place.org_id, name=label, level=LEVELS[place.level]),
        items=points,
    )


def mask_name(name: str) -> str:
    """张三 → 张*, 欧阳娜娜 → 欧***: the family name's first character only."""
    return name[:1] + "*" * max(len(name) - 1, 1) if name else ""


async def teachers(
    r: Reading,
    *,
    actor: Principal,
    project_id: uuid.UUID,
    org_id: str | None,
    metric: str,
    cursor: str | None,
    limit: int,
) -> TeacherPage:
    """The teachers behind one number of the funnel (or its complement), masked."""
    ensure_admin(actor)
    await _project(r, project_id)
    place = await _place(r, actor, tally.project_scope(project_id), org_id)
    after = decode_uuid_cursor(cursor)
    rows = await repo.teachers(
        r.db,
        project_id=project_id,
        level=place.level,
        org_id=place.org_id,
        metric=metric,
        after=after,
        limit=limit + 1,
    )
    page = rows[:limit]
    schools = await r.names.names({row["school_id"] for row in page})
    items = [
        TeacherRow(
            teacher_id=row["teacher_id"],
            name=mask_name(row["teacher_name"]),
            school_id=row["school_id"],
            school_name=schools.get(row["school_id"], row["school_id"]),
            stage=row["stage"],
            subject=row["subject"],
            hours=plain(row["hours"]),
            started_on=tally.shanghai_day(row["started_at"]) if row["started_at"] else None,
            met_on=tally.shanghai_day(row["met_at"]) if row["met_at"] else None,
        )
        for row in page
    ]
    more = len(rows) > limit
    return TeacherPage(
        items=items, next_cursor=encode_cursor(str(page[-1]["teacher_id"])) if more else None
    )


def _waiting_cursor(cursor: str | None) -> tuple[datetime, uuid.UUID] | None:
    raw = decode_cursor(cursor)
    if raw is None:
        return None
    at, _, record = str(raw).partition("|")
    try:
        return datetime.fromisoformat(at), uuid.UUID(record)
    except ValueError:
        raise InvalidCursor() from None


async def waiting(
    r: Reading,
    *,
    actor: Principal,
    cursor: str | None,
    limit: int,
) -> WaitingPage:
    """待我处理: the offline records under the caller's org waiting at the caller's step,
    oldest first. A county admin sees what waits for 初审, a city admin what waits for 审批;
    the province and schools see both steps (they follow; the counties and cities act)."""
    ensure_admin(actor)
    statuses: Sequence[str] = WAITING_FOR.get(actor.role, ("submitted", "county_passed"))
    rows = await repo.waiting(
        r.db,
        statuses=statuses,
        level=len(actor.org_path),
        org_id=actor.org_path[-1],
        after=_waiting_cursor(cursor),
        limit=limit + 1,
    )
    page = rows[:limit]
    schools = await r.names.names({row["school_id"] for row in page})
    items = [
        WaitingRecord(
            record_id=row["record_id"],
            teacher_id=row["teacher_id"],
            year=row["year"],
            status=row["status"],
            status_zh=RECORD_STEPS_ZH.get(row["status"], row["status"]),
            category=row["category"],
            hours=row["hours"],
            school_id=row["school_id"],
            school_name=schools.get(row["school_id"], row["school_id"]),
            changed_at=row["changed_at"],
        )
        for row in page
    ]
    more = len(rows) > limit
    next_cursor = (
        encode_cursor(f"{page[-1]['changed_at'].isoformat()}|{page[-1]['record_id']}")
        if more
        else None
    )
    return WaitingPage(items=items, next_cursor=next_cursor)
