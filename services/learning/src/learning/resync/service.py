"""Writes snapshot events into learning's outbox; the running service's relay publishes them.

- every plan as `PlanChanged` with its current status and place (a snapshot, not a delta);
- every started plan as `StudyStarted` with its `started_at` (the same as first sent);
- every counted, not revoked, completion as `CourseCompleted`, as it was counted (same
  completion id, course key and date; the place is the plan's current one);
- every evaluation that stands met as `RequirementsMet`, from the stored evaluation (its id,
  counted hours and time), as `reevaluate` wrote it.

Each is a fact consumers already take as an upsert, so a re-sent one is a no-op where a read
model is whole and a repair where it is not. Pages are committed one by one (`resync` is the
boundary that commits): a million plans never sit in one transaction, and a resync stopped
half-way has sent what it committed."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from learning.attainment.events import OUTBOX
from learning.attainment.service import course_completed, state_event
from learning.plan_events import PlanState, plan_changed, study_started
from learning.resync import repository as repo
from learning.rules.ruleset import Evaluation
from learning.rules.service import ruleset_for
from yanxiu.contracts.envelope import Event
from yanxiu.kit.outbox import Outbox

PAGE = 1000


@dataclass
class Resent:
    plan_changed: int = 0
    study_started: int = 0
    course_completed: int = 0
    requirements_met: int = 0


async def resend_plans(
    session: AsyncSession,
    *,
    outbox: Outbox,
    after: uuid.UUID | None,
    since: datetime | None,
    limit: int,
) -> tuple[uuid.UUID | None, int, int]:
    """One page of plans: PlanChanged each, StudyStarted each started one. Returns the last
    plan id (None when none was left) and the two counts."""
    plans = await repo.plans_page(session, after=after, since=since, limit=limit)
    events: list[Event] = []
    started = 0
    for plan in plans:
        events.append(plan_changed(PlanState.of(plan), at=plan.updated_at))
        if plan.started_at is not None:
            events.append(study_started(plan))
            started += 1
    await outbox.add(session, *events)
    return (plans[-1].id if plans else None), len(plans), started


async def resend_completions(
    session: AsyncSession,
    *,
    outbox: Outbox,
    after: uuid.UUID | None,
    since: datetime | None,
    limit: int,
) -> tuple[uuid.UUID | None, int]:
    rows = await repo.completions_page(session, after=after, since=since, limit=limit)
    await outbox.add(session, *(course_completed(p, c, completion_id=c.id) for c, p in rows))
    return (rows[-1][0].id if rows else None), len(rows)


async def resend_met(
    session: AsyncSession,
    *,
    outbox: Outbox,
    after: repo.Pair | None,
    since: datetime | None,
    limit: int,
) -> tuple[repo.Pair | None, int]:
    """One page of met evaluations: RequirementsMet each, built as `reevaluate` builds it from
    the stored outcome (a project whose rules are gone has nothing to re-send)."""
    rows = await repo.met_page(session, after=after, since=since, limit=limit)
    events: list[Event] = []
    for state, plan in rows:
        found = await ruleset_for(session, plan.project_id)  # read once per page and project
        if found is None or state.evaluation_id is None:
            continue
        ev = Evaluation(
            counted={k: Decimal(v) for k, v in state.hours_by_category.items()},
            total=state.total_hours,
        )
        events.append(
            state_event(plan, found[0], ev, state.evaluation_id, "resync", state.evaluated_at)
        )
    await outbox.add(session, *events)
    last = (rows[-1][0].teacher_id, rows[-1][0].project_id) if rows else None
    return last, len(events)


async def resync(
    sessions: async_sessionmaker[AsyncSession],
    *,
    since: datetime | None = None,
    page: int = PAGE,
    outbox: Outbox = OUTBOX,
) -> Resent:
    """Every plan (with its start), then every counted completion, then every met evaluation
    (with `since`: those changed since then), a committed page at a time."""
    done = Resent()
    after: uuid.UUID | None = None
    while True:
        async with sessions() as session, session.begin():
            last, plans, started = await resend_plans(
                session, outbox=outbox, after=after, since=since, limit=page
            )
        if last is None:
            break
        done.plan_changed += plans
        done.study_started += started
        after = last
    after = None
    while True:
        async with sessions() as session, session.begin():
            last, count = await resend_completions(
                session, outbox=outbox, after=after, since=since, limit=page
            )
        if last is None:
            break
        done.course_completed += count
        after = last
    pair: repo.Pair | None = None
    while True:
        async with sessions() as session, session.begin():
            last_pair, count = await resend_met(
                session, outbox=outbox, after=pair, since=since, limit=page
            )
        if last_pair is None:
            break
        done.requirements_met += count
        pair = last_pair
    return done
