"""One project's allocation plan: the reviewers who still need lessons, split into their
stage + subject pools by position, each pool allocated by `allocate_indexed`, and the
assignments streamed back out in reviewer order (the order the unique index is built in)."""

from __future__ import annotations

import uuid
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from asyncpg.pgproto.pgproto import UUID as WireUUID  # a uuid.UUID built at C speed

from lessons.allocation.algorithm import PoolInput, PoolPlan, allocate_indexed

Pool = tuple[str, str]  # (stage, subject)


@dataclass
class _PoolBuild:
    lesson_ids: list[uuid.UUID] = field(default_factory=list)
    lesson_authors: list[uuid.UUID] = field(default_factory=list)
    lesson_schools: list[str] = field(default_factory=list)
    reviewer_keys: list[uuid.UUID] = field(default_factory=list)
    reviewer_schools: list[str] = field(default_factory=list)
    need: list[int] = field(default_factory=list)
    held: dict[int, set[int]] = field(default_factory=dict)
    position: dict[uuid.UUID, int] = field(default_factory=dict)

    def add_lesson(self, lesson_id: uuid.UUID, author: uuid.UUID, school: str) -> None:
        self.position[lesson_id] = len(self.lesson_ids)
        self.lesson_ids.append(lesson_id)
        self.lesson_authors.append(author)
        self.lesson_schools.append(school)


@dataclass
class ProjectPlan:
    pools: list[Pool]
    plans: list[PoolPlan]
    lesson_ids: list[list[uuid.UUID]]
    reviewer_ids: list[uuid.UUID]  # every reviewer served, in teacher order
    pool_of: list[int]  # per reviewer above: its pool's number
    local_of: list[int]  # and its position in that pool

    @property
    def assigned(self) -> int:
        return sum(plan.assigned for plan in self.plans)

    def records(
        self, *, run_id: uuid.UUID, project_id: uuid.UUID
    ) -> Iterator[tuple[uuid.UUID, uuid.UUID, uuid.UUID, uuid.UUID, uuid.UUID]]:
        """(id, run, project, reviewer, lesson) in reviewer order. Ids are the run's id with a
        counter in the low 64 bits: unique, and ascending within a run, so the primary-key
        index grows at its right edge instead of taking millions of random inserts."""
        high = run_id.bytes[:8]
        run, project = WireUUID(run_id.bytes), WireUUID(project_id.bytes)  # encoded as-is
        k = 0
        plans, lessons, pool_of, local_of = self.plans, self.lesson_ids, self.pool_of, self.local_of
        for g, reviewer in enumerate(self.reviewer_ids):
            plan, ids, local = plans[pool_of[g]], lessons[pool_of[g]], local_of[g]
            start = local * plan.width
            for slot in range(start, start + plan.count[local]):
                yield (
                    WireUUID(high + k.to_bytes(8, "big")),
                    run,
                    project,
                    reviewer,
                    ids[plan.picks[slot]],
                )
                k += 1

    def served(self) -> Iterator[int]:
        """Positions (in `reviewer_ids`, the members' order) of the reviewers this plan gives
        at least one lesson."""
        plans, pool_of, local_of = self.plans, self.pool_of, self.local_of
        for g in range(len(self.reviewer_ids)):
            if plans[pool_of[g]].count[local_of[g]]:
                yield g

    def summary(self) -> dict[str, Any]:
        pools: list[dict[str, Any]] = []
        for (stage, subject), plan in sorted(zip(self.pools, self.plans, strict=True)):
            pools.append(
                {
                    "stage": stage,
                    "subject": subject,
                    "lessons": len(plan.loads),
                    "assigned": plan.assigned,
                    "short_reviewers": len(plan.short),
                    "min_reviews": min(plan.loads, default=0),
                    "max_reviews": max(plan.loads, default=0),
                    "spread": plan.spread,
                }
            )
        return {"pools": pools, "max_spread": max((p["spread"] for p in pools), default=0)}


def plan_project(
    *,
    members: Sequence[Sequence[Any]],
    lessons: Sequence[Sequence[Any]],
    loads: Mapping[uuid.UUID, int],
    per: int,
    exclude_own_school: bool,
    seed: int,
) -> ProjectPlan:
    """`members`: (teacher, school, stage, subject, lessons held already or None) of every
    reviewer still short of `per`, in teacher order; `lessons`: (id, author, school, stage,
    subject) of the pools' lessons; `loads`: reviews per lesson from earlier runs."""
    builds: dict[Pool, _PoolBuild] = {}
    for lesson_id, author, school, stage, subject in lessons:
        build = builds.get((stage, subject))
        if build is None:
            build = builds[(stage, subject)] = _PoolBuild()
        build.add_lesson(lesson_id, author, school)
    reviewer_ids: list[uuid.UUID] = []
    pool_key: list[Pool] = []
    local_of: list[int] = []
    for teacher, school, stage, subject, held in members:
        key = (stage, subject)
        build = builds.get(key)
        if build is None:
            build = builds[key] = _PoolBuild()
        local = len(build.reviewer_keys)
        build.reviewer_keys.append(teacher)
        build.reviewer_schools.append(school)
        build.need.append(per - len(held) if held else per)
        if held:
            build.held[local] = {build.position[x] for x in held if x in build.position}
        reviewer_ids.append(teacher)
        pool_key.append(key)
        local_of.append(local)
    pools = sorted(set(pool_key))
    number = {key: i for i, key in enumerate(pools)}
    plans = []
    for i, key in enumerate(pools):
        build = builds[key]
        plans.append(
            allocate_indexed(
                PoolInput(
                    lesson_authors=build.lesson_authors,
                    lesson_schools=build.lesson_schools,
                    reviewer_keys=build.reviewer_keys,
                    reviewer_schools=build.reviewer_schools,
                    need=build.need,
                    held=build.held,
                    loads=[loads.get(x, 0) for x in build.lesson_ids],
                ),
                exclude_own_school=exclude_own_school,
                seed=seed + i,
            )
        )
    return ProjectPlan(
        pools=pools,
        plans=plans,
        lesson_ids=[builds[key].lesson_ids for key in pools],
        reviewer_ids=reviewer_ids,
        pool_of=[number[key] for key in pool_key],
        local_of=local_of,
    )
