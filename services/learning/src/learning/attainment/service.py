"""学时认定: completions become counted hours, and a teacher is evaluated against the project's
rule set. Progress, providers and the lessons consumer call `count_completion` (or
`record_completion`) and `revoke_completion`.

A course counts once per teacher and project, whatever the channel and whatever ids the
sender uses: the first completion of a course (its identity: `course_key_for`) counts; a later
one is an attempt that may raise the best score and adds no hours. When the counted completion
is revoked (retracted, voided), the earliest attempt left counts instead."""

from __future__ import annotations

import uuid
from dataclasses import replace
from datetime import UTC, datetime
from decimal import Decimal

from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm.attributes import set_committed_value

from learning import repository as plans_repo
from learning.abilities.standing import standing_of, standings_of
from learning.attainment import repository as repo
from learning.attainment import windows
from learning.attainment.events import OUTBOX
from learning.attainment.facts import CourseGiven, Fact, Recorded, Status, resolve
from learning.attainment.models import Attainment, Completion, CompletionAttempt
from learning.errors import NotRegistered
from learning.models import Plan
from learning.plan_events import start_study
from learning.rules.ruleset import Evaluation, RuleSet, evaluate
from learning.rules.service import ruleset_for
from learning.service import ACTIVE, ensure_plan_counts
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
    course_code: str | None = None,
    score: Decimal | None = None,
    now: datetime | None = None,
) -> uuid.UUID | None:
    """`count_completion`, answering only the id of a completion that counts now (None: the
    fact was recorded before, repeats a course that counts already, or is held)."""
    done = await count_completion(
        session,
        teacher_id=teacher_id,
        project_id=project_id,
        source=source,
        source_ref=source_ref,
        completed_at=completed_at,
        course_id=course_id,
        course_title=course_title,
        category=category,
        hours=hours,
        provider_id=provider_id,
        course_code=course_code,
        score=score,
        now=now,
    )
    return done.completion_id if done.status == "counted" else None


async def count_completion(
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
    course_code: str | None = None,
    score: Decimal | None = None,
    now: datetime | None = None,
    plan: Plan | None = None,
    fresh: bool = False,
) -> Recorded:
    """Record one completion, exactly once per (source, source_ref), and count it once per
    course. With `course_id`, title, category and hours come from the catalogue; otherwise
    they must be given (`course_code`: the sender's own code for a course the catalogue does
    not have). Refused when in the future (CompletedInFuture) or outside the project's
    windows (CompletionOutsideWindow), or held instead where the rule set says so and it is
    late. Counting writes CourseCompleted and re-evaluates the teacher (RequirementsMet when
    the rules become satisfied); a repeat of a counted course only raises its best score."""
    if plan is None or (plan.teacher_id, plan.project_id) != (teacher_id, project_id):
        plan = await _plan(session, teacher_id, project_id)
    ensure_plan_counts(plan)  # 退出项目 / 离职: nothing more counts toward the project
    fact = await resolve(
        session,
        plan=plan,
        source=source,
        source_ref=source_ref,
        completed_at=completed_at,
        course=CourseGiven(course_id, course_title, category, hours, course_code),
        provider_id=provider_id,
        score=score,
    )
    # `fresh`: the caller claimed this (source, source_ref) in this transaction (a provider's
    # event id, claimed in provider_events), so nothing can have been recorded under it; were
    # it wrong, the insert's unique key would still find the earlier record (`_count`).
    earlier = None if fresh else await _earlier(session, fact)
    if earlier is not None:
        return earlier
    # `now`: the clock the completion was read by (the heartbeat path's receipt clock), so a
    # completion is never "in the future" of the clock that stamped it.
    windows.ensure_not_future(completed_at, now)
    found = await ruleset_for(session, project_id)
    rules, year = found if found is not None else (None, None)
    window = windows.window_for(rules, year, plan.project_year, fact.category)
    verdict = windows.judge(window, completed_at)
    if verdict.where != "inside":
        if verdict.where == "late" and rules is not None and rules.late_completions == "hold":
            return await _hold(session, fact, verdict)
        raise verdict.error()
    done = await _count(session, plan, fact)
    if done.status == "counted":
        await reevaluate(session, plan=plan, reason=f"{source} completion")
    return done


REPLAYED: dict[str, Status] = {"attempt": "already_counted", "held": "held"}


async def _earlier(session: AsyncSession, fact: Fact) -> Recorded | None:
    """The answer for a fact recorded before (a replay): what became of it then."""
    ref = {"source": fact.source, "source_ref": fact.source_ref}
    done = await repo.completion_by_source(session, **ref)
    if done is not None:
        return Recorded("already_recorded", done.id, done.course_key, best_score=done.best_score)
    attempt = await repo.attempt_by_source(session, **ref)
    if attempt is None:
        return None
    status: Status = REPLAYED.get(attempt.status, "already_recorded")
    return Recorded(status, attempt.completion_id, attempt.course_key, attempt.id, attempt.score)


async def _count(session: AsyncSession, plan: Plan, fact: Fact) -> Recorded:
    """Count the fact if its course has no live completion, else record it as an attempt
    that may raise the counted one's best score. The caller re-evaluates when it counted."""
    for _ in range(3):  # the counted one may be revoked between our insert and our read
        counted = await _insert_counted(session, plan, fact)
        if counted is not None:
            return Recorded("counted", counted, fact.course_key, best_score=fact.score)
        same = await _earlier(session, fact)  # a concurrent replay of this very fact
        if same is not None:
            return same
        counting = await repo.live_completion(
            session,
            teacher_id=fact.teacher_id,
            project_id=fact.project_id,
            course_key=fact.course_key,
        )
        if counting is None:
            continue
        attempt_id = await repo.insert_attempt(
            session, fact.row(status="attempt", completion_id=counting.id, score=fact.score)
        )
        if attempt_id is None:
            continue
        _raise_best(counting, fact.score)
        await session.flush()
        return Recorded(
            "already_counted", counting.id, fact.course_key, attempt_id, counting.best_score
        )
    raise RuntimeError(f"completion {fact.source}:{fact.source_ref} could not be placed")


async def _insert_counted(session: AsyncSession, plan: Plan, fact: Fact) -> uuid.UUID | None:
    """Insert the fact as the course's counted completion and write CourseCompleted; None
    when the course has a live completion already (or this fact was recorded). A first
    completion starts the study (StudyStarted), before the insert: every path takes the plan
    row before the completion's key, so a heartbeat batch and a provider's completion of the
    same course cannot wait on each other."""
    if plan.started_at is None:
        at = fact.completed_at
        if await start_study(session, [(plan.teacher_id, plan.project_id, at)]):
            set_committed_value(plan, "started_at", at)  # known now; nothing to flush
    completion_id = uuid.uuid4()
    row = {**fact.row(), "id": completion_id, "best_score": fact.score}
    if not await repo.insert_completion(session, row):
        return None
    await OUTBOX.add(session, course_completed(plan, fact, completion_id=completion_id))
    return completion_id


def course_completed(
    plan: Plan, done: Fact | Completion, *, completion_id: uuid.UUID
) -> CourseCompleted:
    """The event of a counted completion (as counted, or as a resync re-sends it)."""
    return CourseCompleted(
        completion_id=completion_id,
        teacher_id=done.teacher_id,
        project_id=done.project_id,
        project_year=plan.project_year,
        course_id=done.course_id,
        course_title=done.course_title,
        category=done.category,
        hours=done.hours,
        source=done.source,
        source_ref=done.source_ref,
        provider_id=done.provider_id,
        org=org_of(plan),
        completed_at=done.completed_at,
        course_key=done.course_key,
    )


async def _hold(session: AsyncSession, fact: Fact, verdict: windows.Verdict) -> Recorded:
    """Late, and the rule set holds late completions: kept for an admin, counting nothing."""
    reason = verdict.error().detail_en[:300]
    attempt_id = await repo.insert_attempt(
        session, fact.row(status="held", reason=reason, score=fact.score)
    )
    if attempt_id is None:  # a concurrent replay recorded it
        same = await _earlier(session, fact)
        assert same is not None
        return same
    return Recorded("held", None, fact.course_key, attempt_id, fact.score)


async def revoke_completion(
    session: AsyncSession, *, source: CompletionSource, source_ref: str, reason: str
) -> bool:
    """The completion recorded for (source, source_ref) no longer counts: writes
    CourseCompletionRevoked, lets the earliest remaining attempt at the same course count
    instead (CourseCompleted), and re-evaluates (RequirementsUnmet if the teacher falls
    short). An attempt or a held completion is withdrawn (it never counts). Returns False
    when there was no such live completion, attempt or held completion."""
    done = await repo.revoke(session, source=source, source_ref=source_ref, reason=reason)
    if done is None:
        withdrawn = await repo.withdraw_attempt(
            session, source=source, source_ref=source_ref, reason=reason
        )
        return withdrawn is not None
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
    if plan.status == ACTIVE:
        await _promote(session, plan, done.course_key)
    await reevaluate(session, plan=plan, reason=reason)
    return True


async def _promote(session: AsyncSession, plan: Plan, course_key: str) -> uuid.UUID | None:
    """The counted completion of the course was revoked: its earliest live attempt counts
    now (its own source and date, the best score of the attempts left)."""
    attempt = await repo.next_attempt(
        session, teacher_id=plan.teacher_id, project_id=plan.project_id, course_key=course_key
    )
    if attempt is None:
        return None
    best = await repo.best_attempt_score(
        session, teacher_id=plan.teacher_id, project_id=plan.project_id, course_key=course_key
    )
    counted = await _insert_counted(session, plan, replace(Fact.of(attempt), score=best))
    if counted is not None:
        attempt.status, attempt.completion_id = "promoted", counted
        await session.flush()
    return counted


async def accept_held(session: AsyncSession, *, plan: Plan, attempt: CompletionAttempt) -> Recorded:
    """An admin accepts a held completion: it counts now as if it had come inside the window,
    or becomes an attempt when the course counts already (and may raise its best score)."""
    ensure_plan_counts(plan)
    fact = Fact.of(attempt)
    for _ in range(3):  # the counted one may be revoked between our insert and our read
        counted = await _insert_counted(session, plan, fact)
        if counted is not None:
            attempt.status, attempt.completion_id = "accepted", counted
            await session.flush()
            await reevaluate(session, plan=plan, reason="held completion accepted")
            return Recorded("counted", counted, fact.course_key, attempt.id, fact.score)
        counting = await repo.live_completion(
            session,
            teacher_id=plan.teacher_id,
            project_id=plan.project_id,
            course_key=fact.course_key,
        )
        if counting is not None:
            attempt.status, attempt.completion_id = "attempt", counting.id
            _raise_best(counting, fact.score)
            await session.flush()
            return Recorded(
                "already_counted", counting.id, fact.course_key, attempt.id, counting.best_score
            )
    raise RuntimeError(f"held completion {attempt.id} could not be placed")


def _raise_best(counting: Completion, score: Decimal | None) -> None:
    if score is not None and (counting.best_score is None or score > counting.best_score):
        counting.best_score = score


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
        await standing_of(session, plan=plan, rules=rules),  # IT 2.0: role, tasks, points
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
        await OUTBOX.add(session, state_event(plan, rules, ev, state.evaluation_id, reason, now))
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
        standings = await standings_of(session, plans=plans.values(), rules=rules)
        for teacher_id in ids:
            ev = evaluate(rules, credits.get(teacher_id, []), standings.get(teacher_id))
            await _store(session, plans[teacher_id], rules, ev, states[teacher_id], "rules changed")
        await session.flush()
        count += len(ids)
    return count


def state_event(
    plan: Plan, rules: RuleSet, ev: Evaluation, evaluation_id: uuid.UUID, reason: str, at: datetime
) -> RequirementsMet | RequirementsUnmet:
    """RequirementsMet when `ev` is met, else RequirementsUnmet (as evaluated, or as a resync
    re-sends the stored evaluation)."""
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
