"""评奖: the city's award (一/二/三等奖) of a city-level lesson within its quota and before the
province's deadline, and the province's selection of provincial lessons (省级优课). Each is
recorded once per lesson and announced as `lessons.lesson_awarded` through the outbox."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from lessons.audit import AUDIT
from lessons.errors import (
    AlreadyAwarded,
    AlreadyProvincial,
    CityDeadlinePassed,
    LocalCurriculumShowcaseOnly,
    NotCityLevel,
    NotSelectedByCountyAndCity,
)
from lessons.events import lesson_org, promoted
from lessons.models import Lesson
from lessons.showcase import quotas
from lessons.showcase import repository as repo
from lessons.showcase.models import LessonAward, LessonPromotion
from lessons.showcase.rules import CITY_LEVEL, LessonRules
from lessons.showcase.service import admin_lesson
from yanxiu.contracts.lessons import LessonAwarded
from yanxiu.kit.auth import Principal, Role
from yanxiu.kit.outbox import Outbox


def awarded(lesson: Lesson, award: LessonAward, now: datetime) -> LessonAwarded:
    """The award as announced (a resync passes the row's own `awarded_at`)."""
    return LessonAwarded(
        award_id=award.id,
        lesson_id=lesson.id,
        teacher_id=lesson.teacher_id,
        year=lesson.year,
        award=award.award,
        lesson_title=lesson.title,
        stage=lesson.stage,
        subject=lesson.subject,
        org=lesson_org(lesson),
        awarded_at=now,
    )


async def award_lesson(
    session: AsyncSession,
    *,
    actor: Principal,
    lesson_id: uuid.UUID,
    award: str,
    rules: LessonRules,
    outbox: Outbox,
    now: datetime,
) -> LessonAward:
    """市级评奖 by the city admin: one award per lesson, within the city's quota."""
    actor.ensure_role(Role.city_admin)
    lesson = await admin_lesson(session, actor=actor, lesson_id=lesson_id)
    if lesson.track != "competition":
        raise LocalCurriculumShowcaseOnly()
    if lesson.level not in CITY_LEVEL:
        raise NotCityLevel()
    if lesson.award is not None:
        raise AlreadyAwarded()
    if not rules.city_level_open(lesson.year, now):
        raise CityDeadlinePassed()
    await quotas.take_place(
        session, rules=rules, year=lesson.year, city_id=lesson.city_id, award=award
    )
    row = LessonAward(
        id=uuid.uuid4(),
        lesson_id=lesson.id,
        year=lesson.year,
        city_id=lesson.city_id,
        scope="city",
        award=award,
        awarded_by=actor.user_id,
        awarded_at=now,
    )
    lesson.award = award
    repo.add_award(session, row)
    await session.flush()
    await AUDIT.record(
        session,
        actor=actor,
        action="lesson.award",
        target_type="lesson",
        target_id=str(lesson.id),
        target_org=lesson.org_path,
        before={"award": None},
        after={"award": award, "award_id": row.id},
    )
    await outbox.add(session, awarded(lesson, row, now))
    return row


async def select_provincial(
    session: AsyncSession,
    *,
    actor: Principal,
    lesson_id: uuid.UUID,
    outbox: Outbox,
    now: datetime,
) -> LessonAward:
    """省级优课评选 by the province admin: only national-curriculum lessons selected by both
    county and city (local and school-based curricula stay in the showcase)."""
    actor.ensure_role(Role.province_admin)
    lesson = await admin_lesson(session, actor=actor, lesson_id=lesson_id)
    if lesson.track != "competition":
        raise LocalCurriculumShowcaseOnly()
    if not {"county", "city"} <= await repo.promoted_levels(session, lesson.id):
        raise NotSelectedByCountyAndCity()
    if lesson.level not in CITY_LEVEL:
        raise NotCityLevel()
    if lesson.provincial:
        raise AlreadyProvincial()
    selection = None
    if lesson.level == "city":
        lesson.level = "province"
        selection = LessonPromotion(
            lesson_id=lesson.id,
            level="province",
            org_id=actor.org_path[-1],
            promoted_by=actor.user_id,
            promoted_at=now,
        )
        repo.add_promotion(session, selection)
    lesson.provincial = True
    row = LessonAward(
        id=uuid.uuid4(),
        lesson_id=lesson.id,
        year=lesson.year,
        city_id=lesson.city_id,
        scope="province",
        award="provincial",
        awarded_by=actor.user_id,
        awarded_at=now,
    )
    repo.add_award(session, row)
    await session.flush()
    await AUDIT.record(
        session,
        actor=actor,
        action="lesson.select_provincial",
        target_type="lesson",
        target_id=str(lesson.id),
        target_org=lesson.org_path,
        before={"provincial": False},
        after={"provincial": True, "level": lesson.level, "award_id": row.id},
    )
    # Selected as 省级优课 from city level: also selected at province level (逐级遴选).
    events = [promoted(lesson, selection)] if selection is not None else []
    await outbox.add(session, *events, awarded(lesson, row, now))
    return row
