"""Learning use cases. Nothing commits here: the request or consumer boundary does."""

from __future__ import annotations

import uuid

from sqlalchemy.ext.asyncio import AsyncSession

from learning import repository as repo
from learning.errors import PlanNotFound
from learning.models import Plan
from yanxiu.contracts.enrollment import TeacherRegistered
from yanxiu.kit.auth import Principal


async def open_plans(session: AsyncSession, *, registrations: list[TeacherRegistered]) -> None:
    """学习计划: each registered teacher gets a plan for the project (one write per batch)."""
    latest = {(r.teacher_id, r.project_id): r for r in registrations}  # later events win
    await repo.upsert_plans(
        session,
        [
            {
                "id": uuid.uuid4(),
                "teacher_id": r.teacher_id,
                "project_id": r.project_id,
                "registration_id": r.registration_id,
                "project_year": r.project_year,
                "teacher_name": r.teacher_name,
                "stage": r.stage,
                "subject": r.subject,
                "province_id": r.org.province_id,
                "city_id": r.org.city_id,
                "county_id": r.org.county_id,
                "school_id": r.org.school_id,
                "status": "active",
            }
            for r in latest.values()
        ],
    )


async def close_plan(
    session: AsyncSession, *, teacher_id: uuid.UUID, project_id: uuid.UUID
) -> None:
    await repo.set_plan_status(
        session, teacher_id=teacher_id, project_id=project_id, status="withdrawn"
    )


async def plans_for(
    session: AsyncSession, *, actor: Principal, teacher_id: uuid.UUID
) -> list[Plan]:
    """A teacher sees their own plans; an admin those of teachers in its subtree."""
    plans = await repo.plans_of(session, teacher_id)
    if actor.teacher_id == str(teacher_id):
        return plans
    # Only admins see other teachers' plans (a teacher's org path covers their whole school).
    visible = [p for p in plans if actor.is_admin and actor.covers(p.org_path)]
    if not visible:
        raise PlanNotFound()
    return visible
