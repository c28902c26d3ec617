"""观评课分配 use cases: allocation runs over every stage + subject pool of a project, and the
reviewers' read model kept from enrollment's events."""

from __future__ import annotations

import contextlib
import gc
import random
import uuid
from collections import Counter, defaultdict
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from lessons.allocation import repository as repo
from lessons.allocation.algorithm import PoolLesson, PoolResult, Reviewer, allocate_pool
from lessons.allocation.errors import NoReviewers, RunNotFound
from lessons.allocation.models import AllocationRun
from yanxiu.kit.auth import Principal, Role

Pool = tuple[str, str]  # (stage, subject)


async def allocate_reviews(
    session: AsyncSession,
    *,
    actor: Principal,
    project_id: uuid.UUID,
    seed: int | None = None,
    per: int = 3,
    exclude_own_school: bool = True,
) -> AllocationRun:
    """Every registered teacher of each pool gets `per` city-level lessons of the pool; a later
    run serves only teachers still short (late registrants), leaving earlier ones as they are."""
    actor.ensure_role(Role.province_admin)
    await repo.lock_project(session, project_id)
    with _no_gc():
        people = await repo.reviewers(session, project_id)
        if not people:
            raise NoReviewers()
        year = people[0].year
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
        results, pairs = await plan(
            session,
            project_id=project_id,
            year=year,
            people=people,
            seed=seed,
            per=per,
            exclude_own_school=exclude_own_school,
        )
        await repo.write_assignments(session, run_id=run.id, project_id=project_id, pairs=pairs)
    run.assignments = len(pairs)
    run.summary = summary(results)
    run.finished_at = datetime.now(UTC)
    await session.flush()
    return run


async def plan(
    session: AsyncSession,
    *,
    project_id: uuid.UUID,
    year: int,
    people: list[Any],
    seed: int,
    per: int,
    exclude_own_school: bool,
) -> tuple[dict[Pool, PoolResult], list[tuple[uuid.UUID, uuid.UUID]]]:
    lessons: dict[Pool, list[PoolLesson]] = defaultdict(list)
    for row in await repo.city_level_lessons(session, year):
        lessons[(row.stage, row.subject)].append(PoolLesson(row.id, row.teacher_id, row.school_id))
    have: dict[uuid.UUID, set[uuid.UUID]] = defaultdict(set)
    load: Counter[uuid.UUID] = Counter()
    for reviewer_id, lesson_id in await repo.existing(session, project_id):
        have[reviewer_id].add(lesson_id)
        load[lesson_id] += 1
    pools: dict[Pool, list[Reviewer]] = defaultdict(list)
    for p in people:
        if len(have.get(p.teacher_id, ())) < per:
            pools[(p.stage, p.subject)].append(Reviewer(p.teacher_id, p.school_id))
    results: dict[Pool, PoolResult] = {}
    pairs: list[tuple[uuid.UUID, uuid.UUID]] = []
    for i, key in enumerate(sorted(pools)):
        result = allocate_pool(
            pools[key],
            lessons.get(key, []),
            per=per,
            exclude_own_school=exclude_own_school,
            seed=seed + i,
            existing=load,
            taken=have,
            wanted={r.id: per - len(have.get(r.id, ())) for r in pools[key]},
        )
        results[key] = result
        pairs.extend(result.pairs)
    return results, pairs


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


def summary(results: dict[Pool, PoolResult]) -> dict[str, Any]:
    pools: list[dict[str, Any]] = []
    for (stage, subject), r in sorted(results.items()):
        loads = list(r.loads.values())
        pools.append(
            {
                "stage": stage,
                "subject": subject,
                "lessons": len(loads),
                "assigned": len(r.pairs),
                "short_reviewers": len(r.short),
                "min_reviews": min(loads, default=0),
                "max_reviews": max(loads, default=0),
                "spread": r.spread,
            }
        )
    return {"pools": pools, "max_spread": max((p["spread"] for p in pools), default=0)}


async def get_run(session: AsyncSession, *, actor: Principal, run_id: uuid.UUID) -> AllocationRun:
    if not actor.is_admin:
        raise RunNotFound()
    found = await repo.run(session, run_id)
    if found is None:
        raise RunNotFound()
    return found


async def assignments(
    session: AsyncSession, *, actor: Principal, teacher_id: uuid.UUID, project_id: uuid.UUID | None
) -> list[Any]:
    """A teacher sees their own assignments; an admin those of reviewers in its subtree."""
    if actor.teacher_id != str(teacher_id):
        if not actor.is_admin:
            return []
        rows = await repo.assignments_of(session, reviewer_id=teacher_id, project_id=project_id)
        keep = []
        for row in rows:
            who = await repo.reviewer(session, project_id=row[0].project_id, teacher_id=teacher_id)
            if who is not None and actor.covers(who.org_path):
                keep.append(row)
        return keep
    return await repo.assignments_of(session, reviewer_id=teacher_id, project_id=project_id)
