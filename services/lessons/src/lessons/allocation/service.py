"""观评课分配 use cases: allocation runs over every stage + subject pool of a project, and the
reviewers' read model kept from enrollment's events."""

from __future__ import annotations

import contextlib
import gc
import random
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime

import asyncpg
from sqlalchemy.ext.asyncio import AsyncSession

from lessons.allocation import repository as repo
from lessons.allocation.errors import NoReviewers, ReviewerNotFound, RunNotFound
from lessons.allocation.models import AllocationRun, Reviewer
from lessons.allocation.planning import plan_project
from lessons.audit import AUDIT
from lessons.events import LESSONS_OUTBOX, reviews_allocated
from yanxiu.kit.auth import Principal, Role
from yanxiu.kit.outbox import Outbox
from yanxiu.kit.reads import Reader
from yanxiu.kit.scope import admin_covers, is_self


async def allocate_reviews(
    session: AsyncSession,
    *,
    actor: Principal,
    project_id: uuid.UUID,
    seed: int | None = None,
    per: int = 3,
    exclude_own_school: bool = True,
    outbox: Outbox = LESSONS_OUTBOX,
) -> AllocationRun:
    """Every registered teacher of each pool gets `per` city-level lessons of the pool; a later
    run serves only teachers still short (late registrants), leaving earlier ones as they are.
    Announced per county as `lessons.reviews_allocated`: the project's review load of each
    school whose teachers the run served (a few hundred events, not one per assignment)."""
    actor.ensure_role(Role.province_admin)
    await repo.lock_project(session, project_id)
    year = await repo.project_year(session, project_id)
    if year is None:
        raise NoReviewers()
    seed = seed if seed is not None else random.SystemRandom().randrange(2**31)
    run = AllocationRun(
        id=uuid.uuid4(),
        project_id=project_id,
        year=year,
        seed=seed,
        params={"reviews_per_teacher": per, "exclude_own_school": exclude_own_school},
        run_by=actor.user_id,
    )
    session.add(run)
    await session.flush()
    with _no_gc():
        members = await repo.unserved_members(session, project_id, per)
        plan = plan_project(
            members=members,
            lessons=await repo.city_level_lessons(session, year),
            loads=await repo.lesson_loads(session, project_id),
            per=per,
            exclude_own_school=exclude_own_school,
            seed=seed,
        )
        await repo.write_assignments(session, plan.records(run_id=run.id, project_id=project_id))
        schools = sorted({members[g][1] for g in plan.served()})
    if schools:
        loads = await repo.school_loads(session, project_id, schools)
        await outbox.add(
            session,
            *reviews_allocated(
                project_id=project_id,
                project_year=year,
                allocated_at=await repo.transaction_time(session),
                loads=loads,
            ),
        )
    run.assignments = plan.assigned
    run.summary = plan.summary()
    run.finished_at = datetime.now(UTC)
    await session.flush()
    # A run spans the whole province: listed under the province admin who started it.
    await AUDIT.record(
        session,
        actor=actor,
        action="allocation.run",
        target_type="allocation_run",
        target_id=str(run.id),
        after={"project_id": project_id, "seed": seed, **run.params, "assigned": run.assignments},
    )
    return run


@contextlib.contextmanager
def _no_gc() -> Iterator[None]:
    """Millions of small objects make the cyclic collector run again and again for nothing
    (nothing here forms cycles); pausing it halves the allocation's time."""
    was = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was:
            gc.enable()


async def get_run(reader: Reader, *, actor: Principal, run_id: uuid.UUID) -> AllocationRun:
    if not actor.is_admin:
        raise RunNotFound()
    found = await repo.run(reader, run_id)
    if found is None:
        raise RunNotFound()
    return found


def admin_reads(actor: Principal, member: Reviewer) -> bool:
    """An admin whose subtree holds the member's stored place (it follows transfers, so the
    old school's admin loses it). A departed reviewer is read only from above the school, as
    learning reads plans: the school they left no longer manages them, while the county, city
    and province keep the history."""
    if not admin_covers(actor, member.org_path):
        return False
    return not member.departed or len(actor.org_path) < len(member.org_path)


async def assignments(
    reader: Reader, *, actor: Principal, teacher_id: uuid.UUID, project_id: uuid.UUID | None
) -> list[asyncpg.Record]:
    """A teacher sees their own assignments; an admin those of the projects whose membership
    `admin_reads` allows; anyone else, a colleague or a staff role with a teacher id on its
    token included, an empty list. The admin of the school a departed reviewer left gets 404
    (ReviewerNotFound), as for the plan in learning."""
    if is_self(actor, teacher_id):
        return await repo.assignments_of(reader, reviewer_id=teacher_id, project_id=project_id)
    if not actor.is_admin:
        return []
    members = await repo.memberships(reader, teacher_id=teacher_id, project_id=project_id)
    readable = {m.project_id for m in members if admin_reads(actor, m)}
    if not readable:
        if any(admin_covers(actor, m.org_path) for m in members):
            raise ReviewerNotFound()
        return []
    rows = await repo.assignments_of(reader, reviewer_id=teacher_id, project_id=project_id)
    return [row for row in rows if row["project_id"] in readable]
