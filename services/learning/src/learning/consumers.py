"""Typed handlers for other services' events."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from learning import service
from learning.providers import xapi_mapping
from learning.rules import owners
from learning.rules.named import apply_named_rule_set
from learning.schools import service as schools
from yanxiu.contracts.enrollment import (
    ENROLLMENT_TOPIC,
    ProjectOpened,
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
    # Completion statements that arrived before the teacher's plan count now.
    await xapi_mapping.map_waiting(session, teacher_ids={e.teacher_id for e in events})


@enrollment_events.handler
async def on_teacher_withdrawn(session: AsyncSession, event: TeacherWithdrawn) -> None:
    await service.close_plan(session, teacher_id=event.teacher_id, project_id=event.project_id)


@enrollment_events.handler
async def on_teacher_created(session: AsyncSession, events: list[TeacherCreated]) -> None:
    """A new teacher names their school: learning learns where the school sits."""
    await schools.place_schools(session, (e.org for e in events))


@enrollment_events.handler
async def on_teacher_updated(session: AsyncSession, events: list[TeacherUpdated]) -> None:
    """Each update says where the teacher stands now: a re-sent one (resync) repairs plans
    that missed a transfer or a departure; an ordinary correction changes nothing here."""
    await schools.follow_teachers(
        session, ((e.teacher_id, e.org, e.status == "active") for e in events)
    )


@enrollment_events.handler
async def on_teacher_transferred(session: AsyncSession, event: TeacherTransferred) -> None:
    """调动, or a take-in from the departed pool: the teacher's plans and progress follow them
    to the new school, and a plan suspended by the departure resumes there."""
    await schools.follow_teachers(session, [(event.teacher_id, event.to_org, True)])


@enrollment_events.handler
async def on_teacher_departed(session: AsyncSession, event: TeacherDeparted) -> None:
    """离职: the plans stay at the school the teacher left (enrollment keeps the record there)
    and are suspended until a school takes the teacher in."""
    await schools.follow_teachers(session, [(event.teacher_id, event.org, False)])


@enrollment_events.handler
async def on_project_opened(session: AsyncSession, event: ProjectOpened) -> None:
    """开放项目: learning learns who runs the project (who may set its rules) and assigns the
    shipped rule set it names, unless it has rules already. A re-sent event changes nothing."""
    await owners.learn_project(session, event)
    await apply_named_rule_set(session, event)
