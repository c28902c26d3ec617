"""Learning use cases. Nothing commits here: the request or consumer boundary does."""

from __future__ import annotations

import uuid
from collections.abc import Sequence

from sqlalchemy.ext.asyncio import AsyncSession

from learning import repository as repo
from learning.errors import PlanDeparted, PlanNotFound, PlanWithdrawn
from learning.models import Plan
from learning.plan_events import PlanState, changes, plans_changed
from yanxiu.contracts.enrollment import TeacherRegistered
from yanxiu.kit.auth import Principal
from yanxiu.kit.reads import Reader
from yanxiu.kit.scope import admin_covers, is_self

ACTIVE, WITHDRAWN, DEPARTED = "active", "withdrawn", "departed"  # learning.models.PlanStatus


async def open_plans(session: AsyncSession, *, registrations: list[TeacherRegistered]) -> None:
    """学习计划: each registered teacher gets a plan for the project (one write per batch).
    PlanChanged for each plan made, re-activated or moved by it; a re-sent registration that
    changes nothing writes nothing."""
    latest = {(r.teacher_id, r.project_id): r for r in registrations}  # later events win
    before = await repo.lock_plans(session, list(latest))
    after = await repo.upsert_plans(
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
                "status": ACTIVE,
            }
            for r in latest.values()
        ],
    )
    was = {s.key: s for s in map(PlanState.of, before)}
    await plans_changed(session, changes(was, map(PlanState.of, after)))


async def close_plan(
    session: AsyncSession, *, teacher_id: uuid.UUID, project_id: uuid.UUID
) -> None:
    """退出项目: the plan is withdrawn (PlanChanged, unless it was withdrawn already)."""
    closed = await repo.set_plan_status(
        session, teacher_id=teacher_id, project_id=project_id, status=WITHDRAWN
    )
    await plans_changed(session, map(PlanState.of, closed))


def ensure_plan_counts(plan: Plan) -> None:
    """Nothing new counts on a plan that is not active: no selection, heartbeat, assessment or
    completion. Withdrawn (退出项目) is PlanWithdrawn; departed (离职, suspended until a school
    takes the teacher in) is PlanDeparted. The one check for every path that adds to a plan."""
    if plan.status == ACTIVE:
        return
    if plan.status == DEPARTED:
        raise PlanDeparted()
    raise PlanWithdrawn()


async def departed_among(
    session: AsyncSession, pairs: Sequence[tuple[uuid.UUID, uuid.UUID]]
) -> set[tuple[uuid.UUID, uuid.UUID]]:
    """Which of these (teacher, project) pairs have a departed plan: for paths that read only
    active plans and must say why a teacher with a suspended one is refused."""
    if not pairs:
        return set()
    return await repo.pairs_with_status(session, pairs, status=DEPARTED)


def admin_reads(actor: Principal, plan: Plan) -> bool:
    """An admin whose subtree holds the plan's stored school (a plan follows the teacher on a
    transfer, so the old school's admin loses it). A departed teacher's plan is read only from
    above the school: the school they left no longer manages them, while the county, city and
    province keep the history."""
    if not admin_covers(actor, plan.org_path):
        return False
    return plan.status != DEPARTED or len(actor.org_path) < len(plan.org_path)


async def plans_for(reader: Reader, *, actor: Principal, teacher_id: uuid.UUID) -> list[Plan]:
    """A teacher sees their own plans (departed or not); an admin those `admin_reads` allows.
    Anyone else, a colleague or a staff role included, gets 404."""
    plans = await repo.plans_of(reader, teacher_id)
    if is_self(actor, teacher_id):
        return plans
    visible = [p for p in plans if admin_reads(actor, p)]
    if not visible:
        raise PlanNotFound()
    return visible
