"""核对报告: the report of one project under the caller's org. Nothing is written here.

How a report is made, cheaply at a million teachers: each side gives its member count and
digest per teacher-id bucket (one aggregate each); only the id ranges whose digests differ are
read, both sides in teacher-id order, merged in one pass. The first page (no cursor) walks the
whole difference to count it, per service and per org one level below the caller; a later page
walks only from its cursor until it has its teachers."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from contextlib import aclosing
from datetime import UTC, datetime

from sqlalchemy.ext.asyncio import AsyncSession

from enrollment.errors import ProjectNotFound
from enrollment.reconcile import repository as repo
from enrollment.reconcile.compare import (
    KIND_LABELS,
    Drift,
    Tally,
    first_teachers,
)
from enrollment.reconcile.schemas import (
    DriftCounts,
    DriftRead,
    OrgDrift,
    Place,
    ReconciliationRead,
    ServiceSummary,
    TeacherDriftRead,
)
from enrollment.reconcile.streams import Check, Consumers, Stream, checks
from yanxiu.kit.auth import Principal
from yanxiu.kit.pagination import decode_uuid_cursor, encode_cursor
from yanxiu.kit.roster import ensure_reader

LEVELS = ("province", "city", "county", "school")


async def ensure_project(session: AsyncSession, project_id: uuid.UUID) -> None:
    if await repo.get_project(session, project_id) is None:
        raise ProjectNotFound()


async def reconcile(
    session: AsyncSession,
    *,
    actor: Principal,
    project_id: uuid.UUID,
    consumers: Consumers,
    cursor: str | None,
    limit: int,
) -> ReconciliationRead:
    """核对报告: the project's rosters under the caller's org (county, city, province admins)."""
    scope = ensure_reader(actor)
    await ensure_project(session, project_id)
    return await report(
        session,
        scope=scope,
        project_id=project_id,
        consumers=consumers,
        after=decode_uuid_cursor(cursor),
        limit=limit,
    )


async def report(
    session: AsyncSession,
    *,
    scope: Sequence[str],
    project_id: uuid.UUID,
    consumers: Consumers,
    after: uuid.UUID | None,
    limit: int,
) -> ReconciliationRead:
    """The report under `scope` (an org path; empty: the whole platform)."""
    first_page = after is None
    found = await checks(session, project_id=project_id, scope=scope, consumers=consumers)
    tallies: dict[str, Tally] = {}
    listed: dict[str, dict[uuid.UUID, Drift]] = {}
    for c in found:
        tally = Tally.below(scope)
        kept: dict[uuid.UUID, Drift] = {}
        async with aclosing(c.drifts(after)) as drifts:
            async for d in drifts:
                if len(kept) <= limit:
                    kept[d.teacher_id] = d
                if first_page:
                    tally.add(d)
                elif len(kept) > limit:
                    break
        tallies[c.stream.service], listed[c.stream.service] = tally, kept
    teachers, more = first_teachers((list(k) for k in listed.values()), limit)
    items = [
        TeacherDriftRead(
            teacher_id=t,
            drifts=[
                _drift_read(c.stream, listed[c.stream.service][t])
                for c in found
                if t in listed[c.stream.service]
            ],
        )
        for t in teachers
    ]
    # Digests that differ while the rows agree: a change landed between the two reads.
    in_sync = all(not c.buckets for c in found) or (
        first_page and not any(t.total for t in tallies.values())
    )
    zh, en = _summary(found, tallies, in_sync=in_sync, first_page=first_page)
    return ReconciliationRead(
        project_id=project_id,
        scope=list(scope),
        checked_at=datetime.now(UTC),
        in_sync=in_sync,
        summary_zh=zh,
        summary_en=en,
        services=[
            ServiceSummary(
                service=c.stream.service,
                label_zh=c.stream.label_zh,
                label_en=c.stream.label_en,
                expected=c.expected_total,
                found=c.found_total,
                in_sync=not c.buckets or (first_page and not tallies[c.stream.service].total),
                differing_buckets=len(c.buckets),
                drift=DriftCounts.of(tallies[c.stream.service].total) if first_page else None,
            )
            for c in found
        ],
        orgs=await _orgs(session, found, tallies, depth=len(scope)) if first_page else [],
        items=items,
        next_cursor=encode_cursor(str(teachers[-1])) if more else None,
    )


def _drift_read(stream: Stream, d: Drift) -> DriftRead:
    zh, en = KIND_LABELS[d.kind]
    return DriftRead(
        service=stream.service,
        service_zh=stream.label_zh,
        kind=d.kind.value,
        kind_zh=zh,
        kind_en=en,
        expected=Place.of(d.expected),
        found=Place.of(d.found),
    )


async def _orgs(
    session: AsyncSession, found: list[Check], tallies: dict[str, Tally], *, depth: int
) -> list[OrgDrift]:
    ids = sorted({org for t in tallies.values() for org in t.by_org})
    names = await repo.org_names(session, ids)
    return [
        OrgDrift(
            org_id=org,
            org_name=names.get(org, ""),
            level=LEVELS[min(depth, len(LEVELS) - 1)],
            service=c.stream.service,
            service_zh=c.stream.label_zh,
            counts=DriftCounts.of(tallies[c.stream.service].by_org[org]),
        )
        for org in ids
        for c in found
        if org in tallies[c.stream.service].by_org
    ]


def _summary(
    found: list[Check], tallies: dict[str, Tally], *, in_sync: bool, first_page: bool
) -> tuple[str, str]:
    if in_sync:
        return (
            "核对一致：学习计划、观评课评审库、看板和学分登记教师均与报名及教师信息相符",
            "In sync: learning plans, review pools, the dashboards and credits' teachers match "
            "enrollment",
        )
    if not first_page:
        return ("核对发现不一致，明细见下", "Drift found; the teachers are listed below")
    per = [(c.stream, sum(tallies[c.stream.service].total.values())) for c in found]
    return (
        "核对发现不一致：" + "，".join(f"{s.label_zh} {n} 人" for s, n in per),
        "Drift found: " + ", ".join(f"{s.label_en} {n}" for s, n in per),
    )
