"""SQL of reviews' reads."""

from __future__ import annotations

import uuid
from collections.abc import Sequence

from sqlalchemy import select

from lessons.models import Lesson
from lessons.reviews.models import Review
from yanxiu.kit.reads import Reader

# The column that holds each level of a lesson's org path (province … school).
_LEVEL_COLUMN = (Lesson.province_id, Lesson.city_id, Lesson.county_id, Lesson.school_id)


async def list_reviews(
    reader: Reader,
    *,
    lesson_id: uuid.UUID | None,
    after: uuid.UUID | None,
    limit: int,
    reviewer_id: uuid.UUID | None = None,
    scope: Sequence[str] | None = None,
) -> list[Review]:
    """A keyset page of reviews by id: those `reviewer_id` wrote, or those of the lessons under
    the org path `scope`."""
    stmt = select(Review).order_by(Review.id).limit(limit)
    if after is not None:
        stmt = stmt.where(Review.id > after)
    if lesson_id is not None:
        stmt = stmt.where(Review.lesson_id == lesson_id)
    if reviewer_id is not None:
        stmt = stmt.where(Review.reviewer_id == reviewer_id)
    if scope is not None:
        stmt = stmt.join(Lesson, Lesson.id == Review.lesson_id)
        for column, org in zip(_LEVEL_COLUMN, scope, strict=False):
            stmt = stmt.where(column == org)
    return await reader.all(Review, stmt)
