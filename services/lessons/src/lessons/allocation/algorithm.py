"""观评课分配, the pure part: give each reviewer of one stage + subject pool `per` distinct
lessons of the pool, never their own lesson (and, when asked, none of their own school's),
always taking the currently least-reviewed eligible lessons. Lessons wait in a queue ordered
by load, so each pick is O(1); a seed makes the whole allocation reproducible.

Balance: every pick takes a lesson of the lowest load among those the reviewer may get; where
exclusions leave a lesson behind, a rebalancing pass moves picks onto it. Loads then differ by
at most one unless the exclusions make that impossible (the run's summary shows the spread)."""

from __future__ import annotations

import random
import uuid
from collections import deque
from collections.abc import Sequence
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
class PoolResult:
    pairs: list[tuple[uuid.UUID, uuid.UUID]] = field(default_factory=list)  # (reviewer, lesson)
    short: list[uuid.UUID] = field(default_factory=list)  # reviewers who got fewer than asked
    loads: dict[uuid.UUID, int] = field(default_factory=dict)

    @property
    def spread(self) -> int:
        return max(self.loads.values()) - min(self.loads.values()) if self.loads else 0


def allocate_pool(
    reviewers: Sequence[Reviewer],
    lessons: Sequence[PoolLesson],
    *,
    per: int = 3,
    exclude_own_school: bool = True,
    seed: int = 0,
    existing: dict[uuid.UUID, int] | None = None,
    taken: dict[uuid.UUID, set[uuid.UUID]] | None = None,
    wanted: dict[uuid.UUID, int] | None = None,
) -> PoolResult:
    """Allocate one pool. `existing` holds lessons' loads from earlier runs, `taken` the
    lessons each reviewer has already, `wanted` how many more each reviewer needs (default
    `per`): late registrants are served without touching earlier assignments.

    The lessons form a queue, least reviewed first (shuffled by the seed among equals): a
    reviewer takes lessons from the front and each taken lesson goes to the back, so the
    queue stays ordered by load. Lessons the reviewer may not take go back to the front for
    the next reviewer. Each pick is a few deque operations."""
    rng = random.Random(seed)
    order = list(lessons)
    rng.shuffle(order)
    existing = existing or {}
    loads = [existing.get(lesson.id, 0) for lesson in order]
    ring = deque(sorted(range(len(order)), key=loads.__getitem__))
    authors = [lesson.teacher.int for lesson in order]  # ints: UUID == is slow Python
    schools = [lesson.school for lesson in order]
    index = {lesson.id: i for i, lesson in enumerate(order)}
    queue = list(reviewers)
    rng.shuffle(queue)
    picks: list[tuple[Reviewer, int]] = []
    held: dict[uuid.UUID, set[int]] = {}  # lesson indices each reviewer holds
    short: list[uuid.UUID] = []
    n = len(order)
    for reviewer in queue:
        need = wanted.get(reviewer.id, per) if wanted else per
        before = taken.get(reviewer.id, ()) if taken else ()
        mine = {index[x] for x in before if x in index}
        own_school = reviewer.school if exclude_own_school else None
        me = reviewer.id.int
        skipped: list[int] = []
        got = 0
        for _ in range(n):
            if got == need:
                break
            i = ring.popleft()
            if authors[i] == me or i in mine or schools[i] == own_school:
                skipped.append(i)
                continue
            mine.add(i)
            loads[i] += 1
            ring.append(i)
            picks.append((reviewer, i))
            got += 1
        ring.extendleft(reversed(skipped))
        if got < need:
            short.append(reviewer.id)
        held[reviewer.id] = mine
    _rebalance(picks, held, order, loads, exclude_own_school)
    return PoolResult(
        pairs=[(r.id, order[i].id) for r, i in picks],
        short=short,
        loads={lesson.id: loads[i] for i, lesson in enumerate(order)},
    )


def _rebalance(
    picks: list[tuple[Reviewer, int]],
    held: dict[uuid.UUID, set[int]],
    order: Sequence[PoolLesson],
    loads: list[int],
    exclude_own_school: bool,
) -> None:
    """Exclusions can leave a lesson that few may review behind the rest (a small pool with
    many reviewers from its school). Move this run's picks from the busiest lessons to the
    idlest ones wherever the rules allow, until loads differ by at most one or nothing can
    move. A large pool is already balanced and leaves after one scan."""
    if not order or max(loads) - min(loads) <= 1:
        return
    by_lesson: dict[int, list[int]] = {}
    for k, (_, i) in enumerate(picks):
        by_lesson.setdefault(i, []).append(k)
    for _ in range(len(picks) + 1):
        ranked = sorted(range(len(order)), key=loads.__getitem__)
        if loads[ranked[-1]] - loads[ranked[0]] <= 1:
            return
        if not _move_one(picks, held, order, loads, by_lesson, ranked, exclude_own_school):
            return


def _move_one(
    picks: list[tuple[Reviewer, int]],
    held: dict[uuid.UUID, set[int]],
    order: Sequence[PoolLesson],
    loads: list[int],
    by_lesson: dict[int, list[int]],
    ranked: list[int],
    exclude_own_school: bool,
) -> bool:
    for hi in reversed(ranked):
        for lo in ranked:
            if loads[hi] - loads[lo] <= 1:
                break
            target = order[lo]
            for k in by_lesson.get(hi, []):
                reviewer, _ = picks[k]
                mine = held[reviewer.id]
                if lo in mine or not _may_review(reviewer, target, exclude_own_school):
                    continue
                mine.discard(hi)
                mine.add(lo)
                picks[k] = (reviewer, lo)
                by_lesson[hi].remove(k)
                by_lesson.setdefault(lo, []).append(k)
                loads[hi] -= 1
                loads[lo] += 1
                return True
    return False


def _may_review(reviewer: Reviewer, lesson: PoolLesson, exclude_own_school: bool) -> bool:
    if lesson.teacher == reviewer.id:
        return False
    return not (exclude_own_school and lesson.school == reviewer.school)
