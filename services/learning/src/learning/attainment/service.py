"""学时认定: completions become counted hours, and a teacher is evaluated against the project's
rule set. Progress, providers and the lessons consumer call only the two functions below."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from decimal import Decimal

from sqlalchemy.ext.asyncio import AsyncSession

from learning import repository as plans_repo
from learning.attainment import repository as repo
from learning.attainment.events import OUTBOX
from learning.attainment.models import Attainment
from learning.catalog.models import Course
from learning.errors import CompletionIncomplete, CourseNotFound, NotRegistered, PlanWithdrawn
from learning.models import Plan
from learning.rules.ruleset import Evaluation, RuleSet, evaluate
from learning.rules.service import ruleset_for
from yanxiu.contracts.envelope import OrgPath
from yanxiu.contracts.learning import (
    CompletionSource,
    CourseCompleted,
    CourseCompletionRevoked,
    RequirementsMet,
    RequirementsUnmet,
)


async def record_completion(
    session: AsyncSession,
    *,
    teacher_id: uuid.UUID,
    project_id: uuid.UUID,
    source: CompletionSource,
    source_ref: str,
    completed_at: datetime,
    course_id: uuid.UUID | None = None,
    course_title: str | None = None,
    category: str | None = None,
    hours: Decimal | None = None,
    provider_id: str | None = None,
) -> uuid.UUID | None:
    """Record one completion, exactly once per (source, source_ref): returns the completion id,
    or None when that fact was already recorded. With `course_id`, title, category and hours
    come from the catalogue; otherwise they must be given. Writes CourseCompleted to the outbox
    and re-evaluates the teacher (RequirementsMet when the rules become satisfied)."""
    plan = await _plan(session, teacher_id, project_id)
    if plan.status == "withdrawn":  # 退出项目: nothing more counts toward the project
        raise PlanWithdrawn()
    course = await session.get(Course, course_id) if course_id is not None else None
    if course_id is not None and course is None and None in (course_title, category, hours):
        raise CourseNotFound()
    title = course.title if course else course_title
    cat = course.category if course else category
    worth = course.hours if course else hours
    if title is None or cat is None or worth is None:
        raise CompletionIncomplete()
    completion_id = uuid.uuid4()
    inserted = await repo.insert_completion(
        session,
        {
            "id": completion_id,
            "teacher_id": teacher_id,
            "project_id": project_id,
            "source": source,
            "source_ref": source_ref,
            "course_id": course_id,
            "course_code": course.code if course else None,
            "course_title": title[:200],
            "category": cat,
            "topic_id": course.topic_id if course else None,
            "hours": worth,
            "provider_id": provider_id,
            "completed_at": completed_at,
        },
    )
    if not inserted:
        return None
    await OUTBOX.add(
        session,
        CourseCompleted(
            completion_id=completion_id,
            teacher_id=teacher_id,
            project_id=project_id,
            project_year=plan.project_year,
            course_id=course_id,
            course_title=title,
            category=cat,
            hours=Decimal(worth),
            source=source,
            source_ref=source_ref,
            provider_id=provider_id,
            org=org_of(plan),
            completed_at=completed_at,
        ),
    )
    await reevaluate(session, plan=plan, reason=f"{source} completion")
    return completion_id


async def revoke_completion(
    session: AsyncSession, *, source: CompletionSource, source_ref: str, reason: str
) -> bool:
    """The completion recorded for (source, source_ref) no longer counts: writes
    CourseCompletionRevoked and re-evaluates (RequirementsUnmet if the teacher falls short).
    Returns False when there was no such live completion."""
    done = await repo.revoke(session, source=source, source_ref=source_ref, reason=reason)
    if done is None:
        return False
    plan = await _plan(session, done.teacher_id, done.project_id)
    await OUTBOX.add(
        session,
        CourseCompletionRevoked(
            completion_id=done.id,
            teacher_id=done.teacher_id,
            project_id=done.project_id,
            project_year=plan.project_year,
            reason=reason,
            org=org_of(plan),
            revoked_at=done.revoked_at or datetime.now(UTC),
        ),
    )
    await reevaluate(session, plan=plan, reason=reason)
    return True


async def reevaluate(session: AsyncSession, *, plan: Plan, reason: str) -> Evaluation | None:
    """Evaluate the teacher against the project's rules and store the outcome; write
    RequirementsMet when newly satisfied, RequirementsUnmet when no longer. Nothing is written
    when the outcome did not change (replays, repeats). No rules yet: nothing to evaluate."""
    found = await ruleset_for(session, plan.project_id)
    if found is None:
        return None
    rules, _year = found
    state = await repo.lock_state(session, teacher_id=plan.teacher_id, project_id=plan.project_id)
    ev = evaluate(
        rules,
        await repo.live_credits(session, teacher_id=plan.teacher_id, project_id=plan.project_id),
    )
    await _store(session, plan, rules, ev, state, reason)
    await session.flush()
    return ev


async def _store(
    session: AsyncSession,
    plan: Plan,
    rules: RuleSet,
    ev: Evaluation,
    state: Attainment,
    reason: str,
) -> None:
    now = datetime.now(UTC)
    if ev.met != state.met:
        state.evaluation_id = uuid.uuid4()
        await OUTBOX.add(session, _state_event(plan, rules, ev, state.evaluation_id, reason, now))
    state.met = ev.met
    state.hours_by_category = {k: str(v) for k, v in ev.counted.items()}
    state.total_hours = ev.total
    state.evaluated_at = now


REEVALUATE_CHUNK = 1000


async def reevaluate_project(session: AsyncSession, *, project_id: uuid.UUID) -> int:
    """After a project's rules change: re-evaluate every teacher with completions in it, a
    thousand teachers per round of four statements (plans, locked states, live completions,
    the changed states) rather than five round trips per teacher."""
    found = await ruleset_for(session, project_id)
    if found is None:
        return 0
    rules, _year = found
    teachers = sorted(await repo.teachers_with_completions(session, project_id))
    count = 0
    for start in range(0, len(teachers), REEVALUATE_CHUNK):
        chunk = teachers[start : start + REEVALUATE_CHUNK]
        plans = await plans_repo.plans_in(session, project_id=project_id, teacher_ids=chunk)
        if not plans:
            continue
        ids = sorted(plans)
        states = await repo.lock_states(session, project_id=project_id, teacher_ids=ids)
        credits = await repo.live_credits_of(session, project_id=project_id, teacher_ids=ids)
        for teacher_id in ids:
            ev = evaluate(rules, credits.get(teacher_id, []))
            await _store(session, plans[teacher_id], rules, ev, states[teacher_id], "rules changed")
        await session.flush()
        count += len(ids)
    return count


def _state_event(
    plan: Plan, rules: RuleSet, ev: Evaluation, evaluation_id: uuid.UUID, reason: str, at: datetime
) -> RequirementsMet | RequirementsUnmet:
    common = {
        "evaluation_id": evaluation_id,
        "teacher_id": plan.teacher_id,
        "project_id": plan.project_id,
        "project_year": plan.project_year,
        "rule_set": rules.code,
        "hours_by_category": dict(ev.counted),
        "total_hours": ev.total,
        "org": org_of(plan),
    }
    if ev.met:
        return RequirementsMet(**common, met_at=at)
    return RequirementsUnmet(**common, reason=reason[:200], unmet_at=at)


async def _plan(session: AsyncSession, teacher_id: uuid.UUID, project_id: uuid.UUID) -> Plan:
    plan = await plans_repo.plan_of(session, teacher_id=teacher_id, project_id=project_id)
    if plan is None:
        raise NotRegistered()
    return plan


def org_of(plan: Plan) -> OrgPath:
    return OrgPath(
        province_id=plan.province_id,
        city_id=plan.city_id,
        county_id=plan.county_id,
        school_id=plan.school_id,
    )
