"""Learning use cases. Nothing commits here: the request or consumer boundary does."""

from __future__ import annotations

import uuid

from sqlalchemy.ext.asyncio import AsyncSession

from learning import repository as repo
from learning.errors import PlanNotFound
from learning.models import Plan
from yanxiu.contracts.enrollment import TeacherRegistered
from yanxiu.kit.auth import Principal
from yanxiu.kit.scope import admin_covers, is_self


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
    """A teacher sees their own plans; an admin those whose stored school lies in its subtree
    (a plan follows the teacher on a transfer, so the old school's admin loses it). Anyone
    else, a colleague or a staff role included, gets 404."""
    plans = await repo.plans_of(session, teacher_id)
    if is_self(actor, teacher_id):
        return plans
    visible = [p for p in plans if admin_covers(actor, p.org_path)]
    if not visible:
        raise PlanNotFound()
    return visible
