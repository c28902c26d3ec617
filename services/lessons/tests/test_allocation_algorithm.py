"""观评课分配, the pure algorithm: balance within one, never one's own lesson, not one's own
school when asked, reproducible by seed, late registrants leave earlier picks alone."""

from __future__ import annotations

import random
import uuid
from collections import Counter

import pytest

from lessons.allocation.algorithm import PoolLesson, Reviewer, allocate_pool


def pool(
    rng: random.Random, reviewers: int, lessons: int, schools: int
) -> tuple[list[Reviewer], list[PoolLesson]]:
    people = [
        Reviewer(uuid.UUID(int=rng.getrandbits(128)), f"s{rng.randrange(schools)}")
        for _ in range(reviewers)
    ]
    authors = rng.sample(people, min(lessons, len(people)))
    made = [PoolLesson(uuid.UUID(int=rng.getrandbits(128)), a.id, a.school) for a in authors]
    made += [
        PoolLesson(uuid.UUID(int=rng.getrandbits(128)), uuid.uuid4(), f"s{rng.randrange(schools)}")
        for _ in range(lessons - len(made))
    ]
    return people, made


@pytest.mark.parametrize("case", range(40))
def test_every_lesson_of_a_pool_gets_the_same_number_of_reviews_within_one(case: int) -> None:
    rng = random.Random(case)
    people, lessons = pool(rng, rng.randrange(20, 400), rng.randrange(4, 60), rng.randrange(5, 40))
    result = allocate_pool(people, lessons, per=3, seed=case)
    assert not result.short
    assert result.spread <= 1
    assert len(result.pairs) == 3 * len(people)


def test_nobody_reviews_their_own_lesson_or_their_own_schools() -> None:
    rng = random.Random(7)
    people, lessons = pool(rng, 300, 40, 12)
    result = allocate_pool(people, lessons, per=3, seed=1, exclude_own_school=True)
    by_id = {lesson.id: lesson for lesson in lessons}
    school = {p.id: p.school for p in people}
    for reviewer, lesson in result.pairs:
        assert by_id[lesson].teacher != reviewer
        assert by_id[lesson].school != school[reviewer]
    per_reviewer = Counter(r for r, _ in result.pairs)
    assert set(per_reviewer.values()) == {3}
    assert len(set(result.pairs)) == len(result.pairs)  # three distinct lessons each


def test_own_school_lessons_are_allowed_when_not_excluded() -> None:
    people = [Reviewer(uuid.uuid4(), "s1") for _ in range(6)]
    lessons = [PoolLesson(uuid.uuid4(), uuid.uuid4(), "s1") for _ in range(3)]
    assert len(allocate_pool(people, lessons, exclude_own_school=False, seed=3).pairs) == 18
    refused = allocate_pool(people, lessons, exclude_own_school=True, seed=3)
    assert refused.pairs == [] and len(refused.short) == 6


def test_the_same_seed_gives_the_same_allocation() -> None:
    rng = random.Random(11)
    people, lessons = pool(rng, 200, 30, 10)
    assert (
        allocate_pool(people, lessons, seed=5).pairs == allocate_pool(people, lessons, seed=5).pairs
    )
    assert (
        allocate_pool(people, lessons, seed=5).pairs != allocate_pool(people, lessons, seed=6).pairs
    )


def test_a_pool_with_too_few_lessons_assigns_what_it_can_and_reports_the_rest() -> None:
    people = [Reviewer(uuid.uuid4(), f"s{i}") for i in range(5)]
    lessons = [PoolLesson(uuid.uuid4(), uuid.uuid4(), "x") for _ in range(2)]
    result = allocate_pool(people, lessons, per=3, seed=0)
    assert len(result.pairs) == 10 and len(result.short) == 5
    assert allocate_pool(people, [], per=3, seed=0).pairs == []


def test_late_registrants_get_the_least_reviewed_lessons_without_moving_earlier_ones() -> None:
    rng = random.Random(3)
    people, lessons = pool(rng, 100, 20, 15)
    first = allocate_pool(people, lessons, seed=1)
    late = [Reviewer(uuid.uuid4(), "late-school") for _ in range(10)]
    second = allocate_pool(late, lessons, seed=2, existing=first.loads)
    assert {r for r, _ in second.pairs} == {r.id for r in late}
    assert second.spread <= 1  # loads carried over, then topped up evenly


def test_a_lesson_only_some_may_review_is_not_left_behind() -> None:
    """Five lessons; one is from the school of half the reviewers, who may not review it."""
    home = [Reviewer(uuid.uuid4(), "home") for _ in range(4)]
    away = [Reviewer(uuid.uuid4(), "away") for _ in range(4)]
    open_lessons = [PoolLesson(uuid.uuid4(), uuid.uuid4(), "elsewhere") for _ in range(4)]
    home_lesson = PoolLesson(uuid.uuid4(), home[0].id, "home")
    for seed in range(20):
        result = allocate_pool(home + away, [*open_lessons, home_lesson], seed=seed)
        assert result.spread <= 1 and not result.short
