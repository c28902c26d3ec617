"""Reading progress: a teacher's own progress per course, and refused heartbeats counted for
admins (by reason, by school), each inside the caller's scope."""

from __future__ import annotations

import uuid
from datetime import date

from learning import repository as plans_repo
from learning.progress import queries as repo
from learning.progress.errors import ProgressNotFound
from learning.progress.schemas import ProgressRead, RefusalReport, SchoolRefusals
from learning.service import admin_reads
from yanxiu.kit.auth import Principal
from yanxiu.kit.errors import Forbidden
from yanxiu.kit.pagination import Page, decode_cursor, decode_uuid_cursor, next_cursor
from yanxiu.kit.reads import Reader
from yanxiu.kit.scope import is_self


async def progress_for(
    reader: Reader,
    *,
    actor: Principal,
    teacher_id: uuid.UUID,
    cursor: str | None,
    limit: int,
) -> Page[ProgressRead]:
    """The teacher sees their own; an admin the progress under the plans it may read
    (`learning.service.admin_reads`: progress follows the plan to a new school, and a departed
    teacher's is read from above the school only); anyone else 404."""
    projects: set[uuid.UUID] | None = None  # None: every project (the teacher themself)
    if not is_self(actor, teacher_id):
        plans = await plans_repo.plans_of(reader, teacher_id)
        projects = {p.project_id for p in plans if admin_reads(actor, p)}
        if not projects:
            raise ProgressNotFound()
    rows = await repo.progress_of(
        reader,
        teacher_id=teacher_id,
        after=decode_uuid_cursor(cursor),
        limit=limit,
        projects=projects,
    )
    items = [
        ProgressRead(
            id=p.id,
            course_id=p.course_id,
            course_title=title,
            project_id=p.project_id,
            video_seconds=p.video_seconds,
            watched_seconds=round(p.watched_seconds, 1),
            watched_ratio=round(p.watched_seconds / p.video_seconds, 4) if p.video_seconds else 0,
            position=p.position,
            heartbeats=p.heartbeats,
            refused=p.refused,
            attempts=p.attempts,
            best_score=p.best_score,
            watched_at=p.watched_at,
            passed_at=p.passed_at,
            completed_at=p.completed_at,
        )
        for p, title in rows[:limit]
    ]
    return Page(items=items, next_cursor=next_cursor([str(p.id) for p, _ in rows], limit))


async def refusal_report(
    reader: Reader,
    *,
    actor: Principal,
    project_id: uuid.UUID | None,
    city_id: str | None,
    county_id: str | None,
    school_id: str | None,
    day_from: date | None,
    day_to: date | None,
    cursor: str | None,
    limit: int,
) -> RefusalReport:
    if not actor.is_admin:
        raise Forbidden("仅管理员可查看", "Admins only")
    filters = {
        "project_id": project_id,
        "city_id": city_id,
        "county_id": county_id,
        "school_id": school_id,
        "day_from": day_from,
        "day_to": day_to,
    }
    scope = actor.org_path
    by_reason = await repo.refusals_by_reason(reader, scope=scope, filters=filters)
    after = decode_cursor(cursor)
    schools = await repo.refusals_by_school(
        reader,
        scope=scope,
        filters=filters,
        after=str(after) if after is not None else None,
        limit=limit,
    )
    return RefusalReport(
        by_reason=by_reason,
        total=sum(by_reason.values()),
        items=[
            SchoolRefusals(
                school_id=s,
                county_id=county,
                city_id=city,
                by_reason=counts,
                total=sum(counts.values()),
            )
            for s, county, city, counts in schools[:limit]
        ],
        next_cursor=next_cursor([s for s, *_ in schools], limit),
        day_from=day_from,
        day_to=day_to,
    )
