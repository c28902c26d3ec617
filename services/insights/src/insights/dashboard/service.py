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

from sqlalchemy.ext.asyncio import AsyncSession

from insights.dashboard import repository as repo
from insights.dashboard.errors import (
    DashboardNotAllowed,
    OrgNotFound,
    ProjectNotFound,
)
from insights.dashboard.org_names import OrgNames
from insights.dashboard.schemas import (
    Funnel,
    LessonCounts,
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
from insights.models import Project
from yanxiu.kit.auth import Principal, Role
from yanxiu.kit.errors import OutOfScope
from yanxiu.kit.pagination import (
    InvalidCursor,
    decode_cursor,
    decode_uuid_cursor,
    encode_cursor,
)

LEVELS = {1: "province", 2: "city", 3: "county", 4: "school"}
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
class Place:
    org_id: str
    level: int
    path: list[str]


NO_FILTER = Filters().params()


def ensure_admin(actor: Principal) -> None:
    if not actor.is_admin or not actor.org_path:
        raise DashboardNotAllowed()


async def _project(session: AsyncSession, project_id: uuid.UUID) -> Project:
    found = await repo.project(session, project_id)
    if found is None:
        raise ProjectNotFound()
    return found


async def _place(session: AsyncSession, actor: Principal, scope: str, org_id: str | None) -> Place:
    """Where the org asked for sits (the caller's own org by default), checked against the
    caller's subtree."""
    own = actor.org_path[-1]
    target = org_id or own
    path = await repo.org_path(session, scope, target)
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


def _project_read(p: Project) -> ProjectRead:
    return ProjectRead(project_id=p.project_id, name=p.name, year=p.year, stage=p.stage)


async def list_projects(session: AsyncSession, *, actor: Principal) -> ProjectList:
    ensure_admin(actor)
    return ProjectList(items=[_project_read(p) for p in await repo.projects(session)])


async def overview(
    session: AsyncSession,
    names: OrgNames,
    *,
    actor: Principal,
    project_id: uuid.UUID,
    org_id: str | None,
    filters: Filters,
) -> Overview:
    ensure_admin(actor)
    project = await _project(session, project_id)
    scope = tally.project_scope(project_id)
    place = await _place(session, actor, scope, org_id)
    values = await repo.totals(session, scope, place.org_id, filters.params())
    # The year's numbers are not split by stage or subject (credits' events do not say).
    year = await repo.totals(session, tally.year_scope(project.year), place.org_id, NO_FILTER)
    shown = place.path[len(actor.org_path) - 1 :]
    labels = await names.names(shown)
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
        project=_project_read(project),
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
    session: AsyncSession,
    names: OrgNames,
    *,
    actor: Principal,
    project_id: uuid.UUID,
    org_id: str | None,
    filters: Filters,
) -> OrgBreakdown:
    """The org's children (a province's cities, a city's counties, a county's schools)."""
    ensure_admin(actor)
    project = await _project(session, project_id)
    scope = tally.project_scope(project_id)
    place = await _place(session, actor, scope, org_id)
    own = await repo.children(session, scope, place.org_id, filters.params())
    year = await repo.children(session, tally.year_scope(project.year), place.org_id, NO_FILTER)
    orgs = sorted(set(own) | set(year))
    labels = await names.names([o for o, _ in orgs] + [place.org_id], parent_id=place.org_id)
    rows = []
    for org, level in orgs:
        p, y = own.get((org, level), {}), year.get((org, level), {})
        registered = _count(p, tally.REGISTERED)
        met = _count(p, tally.REQUIREMENTS_MET)
        rows.append(
            OrgRow(
                org_id=org,
                name=labels.get(org, org),
                level=LEVELS[level],
                has_children=level < 4,
                registered=registered,
                plan_active=_count(p, tally.PLAN_ACTIVE),
                started=_count(p, tally.STARTED),
                requirements_met=met,
                credits_registered=_count(y, tally.CREDITS_REGISTERED),
                certificates_issued=_count(y, tally.CERTIFICATES_ISSUED),
                reviews_assigned=_count(p, tally.REVIEWS_ASSIGNED),
                reviews_done=_count(p, tally.REVIEWS_DONE),
                offline_waiting=_count(y, tally.OFFLINE + "submitted")
                + _count(y, tally.OFFLINE + "county_passed"),
                met_rate=round(met / registered, 4) if registered else None,
            )
        )
    rows.sort(key=lambda r: (r.met_rate is None, r.met_rate or 0, r.org_id))
    return OrgBreakdown(
        org=OrgRef(
            org_id=place.org_id,
            name=labels.get(place.org_id, place.org_id),
            level=LEVELS[place.level],
        ),
        items=rows,
    )


async def trend(
    session: AsyncSession,
    names: OrgNames,
    *,
    actor: Principal,
    project_id: uuid.UUID,
    org_id: str | None,
    days: int,
    today: date,
) -> Trend:
    """Cumulative counts per day for the last `days` days (Asia/Shanghai), up to today."""
    ensure_admin(actor)
    await _project(session, project_id)
    scope = tally.project_scope(project_id)
    place = await _place(session, actor, scope, org_id)
    rows = await repo.days(session, scope, place.org_id, tally.PROJECT_FUNNEL)
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
    label = (await names.names([place.org_id]))[place.org_id]
    return Trend(
        org=OrgRef(org_id=place.org_id, name=label, level=LEVELS[place.level]),
        items=points,
    )


def mask_name(name: str) -> str:
    """张三 → 张*, 欧阳娜娜 → 欧***: the family name's first character only."""
    return name[:1] + "*" * max(len(name) - 1, 1) if name else ""


def _hours(raw: dict[str, str] | None) -> Decimal:
    return plain(sum((Decimal(v) for v in (raw or {}).values()), Decimal(0)))


async def teachers(
    session: AsyncSession,
    names: OrgNames,
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
    await _project(session, project_id)
    place = await _place(session, actor, tally.project_scope(project_id), org_id)
    after = decode_uuid_cursor(cursor)
    rows = await repo.teachers(
        session,
        project_id=project_id,
        level=place.level,
        org_id=place.org_id,
        metric=metric,
        after=after,
        limit=limit + 1,
    )
    page = rows[:limit]
    schools = await names.names({r.school_id for r in page})
    items = [
        TeacherRow(
            teacher_id=r.teacher_id,
            name=mask_name(r.teacher_name),
            school_id=r.school_id,
            school_name=schools.get(r.school_id, r.school_id),
            stage=r.stage,
            subject=r.subject,
            hours=_hours(r.hours),
            started_on=tally.shanghai_day(r.started_at) if r.started_at else None,
            met_on=tally.shanghai_day(r.met_at) if r.met_at else None,
        )
        for r in page
    ]
    more = len(rows) > limit
    return TeacherPage(
        items=items, next_cursor=encode_cursor(str(page[-1].teacher_id)) if more else None
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
    session: AsyncSession,
    names: OrgNames,
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
        session,
        statuses=statuses,
        level=len(actor.org_path),
        org_id=actor.org_path[-1],
        after=_waiting_cursor(cursor),
        limit=limit + 1,
    )
    page = rows[:limit]
    schools = await names.names({r.school_id for r in page})
    items = [
        WaitingRecord(
            record_id=r.record_id,
            teacher_id=r.teacher_id,
            year=r.year,
            status=r.status,
            status_zh=RECORD_STEPS_ZH.get(r.status, r.status),
            category=r.category,
            hours=r.hours,
            school_id=r.school_id,
            school_name=schools.get(r.school_id, r.school_id),
            changed_at=r.changed_at,
        )
        for r in page
    ]
    more = len(rows) > limit
    next_cursor = (
        encode_cursor(f"{page[-1].changed_at.isoformat()}|{page[-1].record_id}") if more else None
    )
    return WaitingPage(items=items, next_cursor=next_cursor)
