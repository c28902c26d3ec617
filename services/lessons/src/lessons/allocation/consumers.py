"""Typed handlers for enrollment's events: who may be assigned reviews (the review pools)."""

from __future__ import annotations

from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncSession

from lessons.allocation.models import Reviewer
from lessons.allocation.repository import upsert_reviewers
from yanxiu.contracts.enrollment import (
    ENROLLMENT_TOPIC,
    TeacherRegistered,
    TeacherTransferred,
    TeacherWithdrawn,
)
from yanxiu.kit.consumer import Subscriber

enrollment_events = Subscriber(group="lessons.enrollment", topics=[ENROLLMENT_TOPIC])


@enrollment_events.handler
async def on_teacher_registered(session: AsyncSession, events: list[TeacherRegistered]) -> None:
    latest = {(e.project_id, e.teacher_id): e for e in events}
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
                "status": "active",
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
    o = event.to_org
    await session.execute(
        update(Reviewer)
        .where(Reviewer.teacher_id == event.teacher_id)
        .values(
            province_id=o.province_id,
            city_id=o.city_id,
            county_id=o.county_id,
            school_id=o.school_id,
        )
    )
