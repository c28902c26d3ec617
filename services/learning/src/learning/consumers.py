"""Typed handlers for other services' events."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from learning import service
from learning.schools import service as schools
from yanxiu.contracts.enrollment import (
    ENROLLMENT_TOPIC,
    TeacherCreated,
    TeacherDeparted,
    TeacherRegistered,
    TeacherTransferred,
    TeacherUpdated,
    TeacherWithdrawn,
)
from yanxiu.kit.consumer import Subscriber

enrollment_events = Subscriber(group="learning.enrollment", topics=[ENROLLMENT_TOPIC])


@enrollment_events.handler
async def on_teacher_registered(session: AsyncSession, events: list[TeacherRegistered]) -> None:
    await schools.place_schools(session, (e.org for e in events))
    await service.open_plans(session, registrations=events)


@enrollment_events.handler
async def on_teacher_withdrawn(session: AsyncSession, event: TeacherWithdrawn) -> None:
    await service.close_plan(session, teacher_id=event.teacher_id, project_id=event.project_id)


@enrollment_events.handler
async def on_teacher_created(session: AsyncSession, events: list[TeacherCreated]) -> None:
    """A new teacher names their school: learning learns where the school sits."""
    await schools.place_schools(session, (e.org for e in events))


@enrollment_events.handler
async def on_teacher_updated(session: AsyncSession, events: list[TeacherUpdated]) -> None:
    await schools.place_schools(session, (e.org for e in events))


@enrollment_events.handler
async def on_teacher_transferred(session: AsyncSession, event: TeacherTransferred) -> None:
    """调动: the teacher's plans and progress follow them to the new school."""
    await schools.follow_teacher(session, teacher_id=event.teacher_id, org=event.to_org)


@enrollment_events.handler
async def on_teacher_departed(session: AsyncSession, event: TeacherDeparted) -> None:
    """离职: the records stay at the school the teacher left (enrollment keeps them there too)
    until another school takes the teacher in."""
    await schools.follow_teacher(session, teacher_id=event.teacher_id, org=event.org)
