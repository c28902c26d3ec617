"""Typed handlers for enrollment's events: who may be assigned reviews (the review pools).

A pool member follows the teacher (issue #14 point 2): a transfer moves them, with their
assignments' visibility, to the new school; a departure (离职) takes them out of the pools
("departed": no new assignments; those made before stay, as every assignment does, but can be
neither reviewed nor flagged, and only admins above the school read them) until a school takes
them in. A re-sent registration (a resync) never puts a departed teacher back.

A re-sent teacher record (TeacherUpdated carries the teacher's current school and status, as a
resync or a reconciliation repair sends it) repairs members that missed a move or a departure,
as learning's plans do. A member is found by teacher across projects through the teacher_id
index (migration 0008)."""

from __future__ import annotations

import uuid
from collections.abc import Iterable

from sqlalchemy import text, update
from sqlalchemy.ext.asyncio import AsyncSession

from lessons.allocation.models import Reviewer
from lessons.allocation.repository import upsert_reviewers
from yanxiu.contracts.enrollment import (
    ENROLLMENT_TOPIC,
    TeacherDeparted,
    TeacherRegistered,
    TeacherTransferred,
    TeacherUpdated,
    TeacherWithdrawn,
)
from yanxiu.contracts.envelope import OrgPath
from yanxiu.kit.consumer import Subscriber

enrollment_events = Subscriber(group="lessons.enrollment", topics=[ENROLLMENT_TOPIC])


@enrollment_events.handler
async def on_teacher_registered(session: AsyncSession, events: list[TeacherRegistered]) -> None:
    latest = {(e.project_id, e.teacher_id): e for e in events}
    departed = await _departed(session, set(latest))
    await upsert_reviewers(
        session,
        [
            {
                "project_id": e.project_id,
                "teacher_id": e.teacher_id,
                "year": e.project_year,
                "teacher_name": e.teacher_name,
                "stage": e.stage,
                "subject": e.subject,
                "province_id": e.org.province_id,
                "city_id": e.org.city_id,
                "county_id": e.org.county_id,
                "school_id": e.org.school_id,
                "status": "departed" if e.teacher_id in departed else "active",
            }
            for e in latest.values()
        ],
    )


@enrollment_events.handler
async def on_teacher_withdrawn(session: AsyncSession, event: TeacherWithdrawn) -> None:
    await session.execute(
        update(Reviewer)
        .where(Reviewer.project_id == event.project_id, Reviewer.teacher_id == event.teacher_id)
        .values(status="withdrawn")
    )


@enrollment_events.handler
async def on_teacher_transferred(session: AsyncSession, event: TeacherTransferred) -> None:
    """调动, or a take-in from the departed pool: the member moves and is back in the pools."""
    await _follow(session, [(event.teacher_id, event.to_org, True)])


@enrollment_events.handler
async def on_teacher_updated(session: AsyncSession, events: list[TeacherUpdated]) -> None:
    """A teacher record as it stands now: members take its school and status."""
    await _follow(session, [(e.teacher_id, e.org, e.status == "active") for e in events])


@enrollment_events.handler
async def on_teacher_departed(session: AsyncSession, event: TeacherDeparted) -> None:
    """离职: out of the review pools, at the school the teacher left, until taken in."""
    await _follow(session, [(event.teacher_id, event.org, False)])


async def _departed(
    session: AsyncSession, pairs: set[tuple[uuid.UUID, uuid.UUID]]
) -> set[uuid.UUID]:
    """Which of these (project, teacher) memberships are departed (by the primary key)."""
    if not pairs:
        return set()
    rows = await session.scalars(
        text(
            "SELECT r.teacher_id FROM unnest(CAST(:p AS uuid[]), CAST(:t AS uuid[])) AS u(p, t) "
            "JOIN lessons.reviewers r ON r.project_id = u.p AND r.teacher_id = u.t "
            "WHERE r.status = 'departed'"
        ),
        {"p": [p for p, _ in pairs], "t": [t for _, t in pairs]},
    )
    return set(rows.all())


# Every pool membership of each teacher takes the place and the status employment says:
# active ↔ departed; a withdrawn one stays withdrawn. Only changed rows are written.
_FOLLOW = text(
    "WITH u AS (SELECT * FROM unnest(CAST(:t AS uuid[]), CAST(:province AS text[]), "
    "CAST(:city AS text[]), CAST(:county AS text[]), CAST(:school AS text[]), "
    "CAST(:employed AS boolean[])) AS u(t, province_id, city_id, county_id, school_id, employed)) "
    "UPDATE lessons.reviewers r SET province_id = u.province_id, city_id = u.city_id, "
    "county_id = u.county_id, school_id = u.school_id, status = CASE "
    "WHEN r.status = 'active' AND NOT u.employed THEN 'departed' "
    "WHEN r.status = 'departed' AND u.employed THEN 'active' ELSE r.status END "
    "FROM u WHERE r.teacher_id = u.t AND ("
    "(r.province_id, r.city_id, r.county_id, r.school_id) "
    "IS DISTINCT FROM (u.province_id, u.city_id, u.county_id, u.school_id) "
    "OR (r.status = 'active' AND NOT u.employed) OR (r.status = 'departed' AND u.employed))"
)


async def _follow(
    session: AsyncSession, standings: Iterable[tuple[uuid.UUID, OrgPath, bool]]
) -> None:
    """(teacher, org, employed) → the teacher's memberships; the last standing per teacher wins."""
    latest = list({s[0]: s for s in standings}.values())
    if not latest:
        return
    await session.execute(
        _FOLLOW,
        {
            "t": [t for t, _, _ in latest],
            "province": [o.province_id for _, o, _ in latest],
            "city": [o.city_id for _, o, _ in latest],
            "county": [o.county_id for _, o, _ in latest],
            "school": [o.school_id for _, o, _ in latest],
            "employed": [e for _, _, e in latest],
        },
    )
