"""Typed handlers for other services' events."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from learning import service
from yanxiu.contracts.enrollment import ENROLLMENT_TOPIC, TeacherRegistered, TeacherWithdrawn
from yanxiu.kit.consumer import Subscriber

enrollment_events = Subscriber(group="learning.enrollment", topics=[ENROLLMENT_TOPIC])


@enrollment_events.handler
async def on_teacher_registered(session: AsyncSession, events: list[TeacherRegistered]) -> None:
    await service.open_plans(session, registrations=events)


@enrollment_events.handler
async def on_teacher_withdrawn(session: AsyncSession, event: TeacherWithdrawn) -> None:
    await service.close_plan(session, teacher_id=event.teacher_id, project_id=event.project_id)
