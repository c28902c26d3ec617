"""观评课分配, the pure part: give each reviewer of one stage + subject pool `per` distinct
lessons of the pool, never their own lesson (and, when asked, none of their own school's),
always taking the currently least-reviewed eligible lessons. Lessons wait in a queue ordered
by load, so each pick is O(1); a seed makes the whole allocation reproducible.

Balance: every pick takes a lesson of the lowest load among those the reviewer may get; where
exclusions leave a lesson behind, a rebalancing pass moves picks onto it. Loads then differ by
at most one unless the exclusions make that impossible (the run's summary shows the spread).

The core (`allocate_indexed`) works on positions in flat lists, not on objects: a pool of a
million reviewers is a few lists of ints and strings, and its picks one list of lesson
positions. `allocate_pool` is the same allocation over named reviewers and lessons."""

from __future__ import annotations

import random
import uuid
from collections import deque
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field


@dataclass(frozen=True)
class Reviewer:
    id: uuid.UUID
    school: str


@dataclass(frozen=True)
class PoolLesson:
    id: uuid.UUID
    teacher: uuid.UUID
    school: str


@dataclass
class PoolPlan:
    """The picks of one pool by position: reviewer `r` got the lessons at positions
    `picks[r * width : r * width + count[r]]`; `loads` counts every lesson's reviews,
    earlier runs included."""

    width: int
    picks: list[int]
    count: list[int]
    short: list[int]  # reviewers (positions) who got fewer than they needed
    loads: list[int]

    @property
    def assigned(self) -> int:
        return sum(self.count)

    @property
    def spread(self) -> int:
        return max(self.loads) - min(self.loads) if self.loads else 0

    def lessons_of(self, r: int) -> list[int]:
        start = r * self.width
        return self.picks[start : start + self.count[r]]


@dataclass
class PoolResult:
    pairs: list[tuple[uuid.UUID, uuid.UUID]] = field(default_factory=list)  # (reviewer, lesson)
    short: list[uuid.UUID] = field(default_factory=list)  # reviewers who got fewer than asked
    loads: dict[uuid.UUID, int] = field(default_factory=dict)

    @property
    def spread(self) -> int:
        return max(self.loads.values()) - min(self.loads.values()) if self.loads else 0


@dataclass(frozen=True)
class PoolInput:
    """One pool by position. Authors and reviewers are compared by `key` (any value with ==,
    e.g. a teacher id's int); `held` maps a reviewer's position to the lesson positions it
    holds from earlier runs; `loads` are the lessons' reviews from earlier runs."""

    lesson_authors: Sequence[object]
    lesson_schools: Sequence[str]
    reviewer_keys: Sequence[object]
    reviewer_schools: Sequence[str]
    need: Sequence[int]
    held: Mapping[int, set[int]] = field(default_factory=dict)
    loads: Sequence[int] = ()


def allocate_indexed(pool: PoolInput, *, exclude_own_school: bool, seed: int) -> PoolPlan:
    """The lessons form a queue, least reviewed first (shuffled by the seed among equals): a
    reviewer takes lessons from the front and each taken lesson goes to the back, so the
    queue stays ordered by load. Lessons the reviewer may not take go back to the front for
    the next reviewer. Each pick is a few deque operations."""
    rng = random.Random(seed)
    n = len(pool.lesson_authors)
    reviewers = len(pool.reviewer_keys)
    width = max(pool.need, default=0)
    loads = list(pool.loads) if pool.loads else [0] * n
    shuffled = list(range(n))
    rng.shuffle(shuffled)
    ring = deque(sorted(shuffled, key=loads.__getitem__))
    turn = list(range(reviewers))
    rng.shuffle(turn)
    authors, schools = pool.lesson_authors, pool.lesson_schools
    keys, homes, need, held = pool.reviewer_keys, pool.reviewer_schools, pool.need, pool.held
    picks = [-1] * (reviewers * width)
    count = [0] * reviewers
    short: list[int] = []
    popleft, push = ring.popleft, ring.append
    for r in turn:
        want = need[r]
        if want <= 0:
            continue
        me = keys[r]
        home = homes[r] if exclude_own_school else None
        prior = held.get(r) if held else None
        base = slot = r * width
        end = base + want
        skipped: list[int] = []
        for _ in range(n):
            i = popleft()
            if authors[i] == me or schools[i] == home or (prior is not None and i in prior):
                skipped.append(i)
                continue
            loads[i] += 1
            push(i)
            picks[slot] = i
            slot += 1
            if slot == end:
                break
        if skipped:
            ring.extendleft(reversed(skipped))
        count[r] = slot - base
        if slot < end:
            short.append(r)
    plan = PoolPlan(width=width, picks=picks, count=count, short=short, loads=loads)
    if n and max(loads) - min(loads) > 1:
        _rebalance(plan, pool, exclude_own_school)
    return plan


def _rebalance(plan: PoolPlan, pool: PoolInput, exclude_own_school: bool) -> None:
    """Exclusions can leave a lesson that few may review behind the rest (a small pool with
    many reviewers from its school). Move this run's picks from the busiest lessons to the
    idlest ones wherever the rules allow, until loads differ by at most one or nothing can
    move. Only such pools come here; a large pool is balanced by the queue alone."""
    by_lesson: dict[int, list[int]] = {}
    for r, c in enumerate(plan.count):
        for slot in range(r * plan.width, r * plan.width + c):
            by_lesson.setdefault(plan.picks[slot], []).append(slot)
    loads = plan.loads
    for _ in range(len(plan.picks) + 1):
        ranked = sorted(range(len(loads)), key=loads.__getitem__)
        if loads[ranked[-1]] - loads[ranked[0]] <= 1:
            return
        if not _move_one(plan, pool, by_lesson, ranked, exclude_own_school):
            return


def _move_one(
    plan: PoolPlan,
    pool: PoolInput,
    by_lesson: dict[int, list[int]],
    ranked: list[int],
    exclude_own_school: bool,
) -> bool:
    loads = plan.loads
    for hi in reversed(ranked):
        for lo in ranked:
            if loads[hi] - loads[lo] <= 1:
                break
            for slot in by_lesson.get(hi, []):
                r = slot // plan.width
                if lo in plan.lessons_of(r) or lo in pool.held.get(r, ()):
                    continue
                if pool.lesson_authors[lo] == pool.reviewer_keys[r]:
                    continue
                if exclude_own_school and pool.lesson_schools[lo] == pool.reviewer_schools[r]:
                    continue
                plan.picks[slot] = lo
                by_lesson[hi].remove(slot)
                by_lesson.setdefault(lo, []).append(slot)
                loads[hi] -= 1
                loads[lo] += 1
                return True
    return False


def allocate_pool(
    reviewers: Sequence[Reviewer],
    lessons: Sequence[PoolLesson],
    *,
    per: int = 3,
    exclude_own_school: bool = True,
    seed: int = 0,
    existing: Mapping[uuid.UUID, int] | None = None,
    taken: Mapping[uuid.UUID, set[uuid.UUID]] | None = None,
    wanted: Mapping[uuid.UUID, int] | None = None,
) -> PoolResult:
    """Allocate one pool of named reviewers and lessons. `existing` holds lessons' loads from
    earlier runs, `taken` the lessons each reviewer has already, `wanted` how many more each
    reviewer needs (default `per`): late registrants are served without touching earlier
    assignments."""
    existing = existing or {}
    position = {lesson.id: i for i, lesson in enumerate(lessons)}
    held: dict[int, set[int]] = {}
    for r, reviewer in enumerate(reviewers):
        before = taken.get(reviewer.id, ()) if taken else ()
        mine = {position[x] for x in before if x in position}
        if mine:
            held[r] = mine
    plan = allocate_indexed(
        PoolInput(
            lesson_authors=[lesson.teacher.int for lesson in lessons],
            lesson_schools=[lesson.school for lesson in lessons],
            reviewer_keys=[reviewer.id.int for reviewer in reviewers],
            reviewer_schools=[reviewer.school for reviewer in reviewers],
            need=[wanted.get(r.id, per) if wanted else per for r in reviewers],
            held=held,
            loads=[existing.get(lesson.id, 0) for lesson in lessons],
        ),
        exclude_own_school=exclude_own_school,
        seed=seed,
    )
    return PoolResult(
        pairs=[
            (reviewer.id, lessons[i].id)
            for r, reviewer in enumerate(reviewers)
            for i in plan.lessons_of(r)
        ],
        short=[reviewers[r].id for r in plan.short],
        loads={lesson.id: plan.loads[i] for i, lesson in enumerate(lessons)},
    )
