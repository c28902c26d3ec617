"""SQL for lessons, their selections and awards."""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from lessons.models import Lesson
from lessons.showcase.models import LessonAward, LessonPromotion
from yanxiu.kit.reads import Reader

# The column that holds each level of a lesson's org path (province … school).
_LEVEL_COLUMN = (Lesson.province_id, Lesson.city_id, Lesson.county_id, Lesson.school_id)


@dataclass(frozen=True)
class LessonFilter:
    scope: tuple[str, ...]  # the caller's org path: rows must lie under it
    teacher_id: uuid.UUID | None = None  # a teacher sees only their own lessons
    year: int | None = None
    stage: str | None = None
    subject: str | None = None
    grade: str | None = None
    level: str | None = None
    curriculum: str | None = None
    award: str | None = None
    provincial: bool | None = None
    city_id: str | None = None
    county_id: str | None = None
    school_id: str | None = None


def add_lesson(session: AsyncSession, lesson: Lesson) -> None:
    session.add(lesson)


async def get_lesson(reader: Reader, lesson_id: uuid.UUID) -> Lesson | None:
    return await reader.get(Lesson, lesson_id)


async def lock_lesson(session: AsyncSession, lesson_id: uuid.UUID) -> Lesson | None:
    """The lesson, locked until commit: two selections of one lesson queue behind each other."""
    return await session.scalar(
        select(Lesson)
        .where(Lesson.id == lesson_id)
        .with_for_update()
        .execution_options(populate_existing=True)
    )


async def list_lessons(
    reader: Reader, *, where: LessonFilter, after: uuid.UUID | None, limit: int
) -> list[Lesson]:
    if not where.scope:
        return []
    stmt = select(Lesson).order_by(Lesson.id).limit(limit)
    stmt = stmt.where(_LEVEL_COLUMN[len(where.scope) - 1] == where.scope[-1])
    for column, value in (
        (Lesson.teacher_id, where.teacher_id),
        (Lesson.year, where.year),
        (Lesson.stage, where.stage),
        (Lesson.subject, where.subject),
        (Lesson.grade, where.grade),
        (Lesson.level, where.level),
        (Lesson.curriculum, where.curriculum),
        (Lesson.award, where.award),
        (Lesson.provincial, where.provincial),
        (Lesson.city_id, where.city_id),
        (Lesson.county_id, where.county_id),
        (Lesson.school_id, where.school_id),
    ):
        if value is not None:
            stmt = stmt.where(column == value)
    if after is not None:
        stmt = stmt.where(Lesson.id > after)
    return await reader.all(Lesson, stmt)


async def promoted_levels(session: AsyncSession, lesson_id: uuid.UUID) -> set[str]:
    rows = await session.scalars(
        select(LessonPromotion.level).where(LessonPromotion.lesson_id == lesson_id)
    )
    return set(rows.all())


async def promotions(reader: Reader, lesson_id: uuid.UUID) -> list[LessonPromotion]:
    return await reader.all(
        LessonPromotion,
        select(LessonPromotion)
        .where(LessonPromotion.lesson_id == lesson_id)
        .order_by(LessonPromotion.id),
    )


def add_promotion(session: AsyncSession, promotion: LessonPromotion) -> None:
    session.add(promotion)


def add_award(session: AsyncSession, award: LessonAward) -> None:
    session.add(award)


async def city_level_lessons(reader: Reader, *, year: int, city_id: str) -> list[Lesson]:
    """The city's 市级优课 of a year, for its summary sheet."""
    stmt = (
        select(Lesson)
        .where(
            Lesson.year == year, Lesson.city_id == city_id, Lesson.level.in_(["city", "province"])
        )
        .order_by(Lesson.county_id, Lesson.stage, Lesson.school_id, Lesson.subject, Lesson.id)
    )
    return await reader.all(Lesson, stmt)
