"""校本研修: a school admin records a teacher's school-based hours (Hefei IT 2.0: "经学校考核
合格…由学校计入本人校本培训学分"), counted like any other completion, once per school record."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

from sqlalchemy.ext.asyncio import AsyncSession

from learning import repository as plans_repo
from learning.attainment.schemas import SchoolBasedHours, SchoolBasedResult
from learning.attainment.service import count_completion
from learning.audit import AUDIT
from learning.errors import PlanNotFound
from yanxiu.kit.auth import Principal, Role


async def record_school_based(
    session: AsyncSession, *, actor: Principal, teacher_id: uuid.UUID, body: SchoolBasedHours
) -> SchoolBasedResult:
    actor.ensure_role(Role.school_admin)
    plan = await plans_repo.plan_of(session, teacher_id=teacher_id, project_id=body.project_id)
    if plan is None or not actor.covers(plan.org_path):
        raise PlanNotFound()
    done = await count_completion(
        session,
        teacher_id=teacher_id,
        project_id=body.project_id,
        source="school_based",
        source_ref=f"{plan.school_id}:{body.record_id}",
        completed_at=body.completed_at or datetime.now(UTC),
        course_title=body.title,
        category="school_based",
        hours=body.hours,
    )
    completion_id = done.completion_id if done.status == "counted" else None
    if completion_id:
        await AUDIT.record(
            session,
            actor=actor,
            action="plan.school_based_hours",
            target_type="plan",
            target_id=str(plan.id),
            target_org=plan.org_path,
            after={
                "teacher_id": teacher_id,
                "project_id": body.project_id,
                "record_id": body.record_id,
                "title": body.title,
                "hours": body.hours,
                "completion_id": completion_id,
            },
        )
    return SchoolBasedResult(
        record_id=body.record_id,
        completion_id=completion_id,
        status="recorded"
        if completion_id
        else "held"
        if done.status == "held"
        else "already_recorded",
    )
