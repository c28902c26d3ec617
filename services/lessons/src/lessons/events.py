"""The lessons service's outbox and the dashboard facts built from its rows (晒课, 逐级遴选,
观评课分配): the same builders serve the write that makes the fact and the resync that re-sends
it."""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any

from lessons.models import Lesson, machinery
from lessons.showcase.models import LessonPromotion
from yanxiu.contracts.envelope import OrgPath
from yanxiu.contracts.lessons import LessonPromoted, LessonSubmitted, ReviewsAllocated
from yanxiu.kit.outbox import Outbox

# The runtime's outbox is the same table and producer; this one serves callers without a
# request (the allocation benchmark, the resync) and is every use case's default.
LESSONS_OUTBOX = Outbox(machinery["outbox"], producer="lessons")


def lesson_org(lesson: Lesson) -> OrgPath:
    return OrgPath(
        province_id=lesson.province_id,
        city_id=lesson.city_id,
        county_id=lesson.county_id,
        school_id=lesson.school_id,
    )


def submitted(lesson: Lesson) -> LessonSubmitted:
    """晒课: the lesson as it stands; `submitted_at` is its creation, so a re-sent one (after an
    edit, or by a resync) carries the same time."""
    return LessonSubmitted(
        lesson_id=lesson.id,
        teacher_id=lesson.teacher_id,
        year=lesson.year,
        lesson_title=lesson.title,
        stage=lesson.stage,
        subject=lesson.subject,
        org=lesson_org(lesson),
        submitted_at=lesson.created_at,
    )


def promoted(lesson: Lesson, promotion: LessonPromotion) -> LessonPromoted:
    """逐级遴选: one selection row, with the row's own time (a resync re-sends the same)."""
    return LessonPromoted(
        lesson_id=lesson.id,
        teacher_id=lesson.teacher_id,
        year=lesson.year,
        level=promotion.level,
        stage=lesson.stage,
        subject=lesson.subject,
        org=lesson_org(lesson),
        promoted_at=promotion.promoted_at,
    )


def reviews_allocated(
    *,
    project_id: uuid.UUID,
    project_year: int,
    allocated_at: datetime,
    loads: Iterable[Sequence[Any]],
) -> list[ReviewsAllocated]:
    """观评课分配: one snapshot per county of `loads` rows (province, city, county, school,
    assignments held by the school's teachers in the project)."""
    counties: dict[tuple[str, str, str], dict[str, int]] = {}
    for province, city, county, school, n in loads:
        counties.setdefault((province, city, county), {})[school] = n
    return [
        ReviewsAllocated(
            project_id=project_id,
            project_year=project_year,
            province_id=province,
            city_id=city,
            county_id=county,
            schools=schools,
            allocated_at=allocated_at,
        )
        for (province, city, county), schools in counties.items()
    ]
