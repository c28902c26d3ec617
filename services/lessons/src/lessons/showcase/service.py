"""创课 and 逐级遴选: a teacher creates a lesson; the school, county, city and province admins
select it upward, one level at a time. Use cases; nothing commits here.

The per-city and per-teacher rules are partial unique indexes on `lessons`; a selection that
would break one fails on flush and is reported as that rule."""

from __future__ import annotations

import uuid
from dataclasses import replace
from datetime import datetime

from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from lessons.audit import AUDIT
from lessons.errors import (
    CityDeadlinePassed,
    CityLessonTaken,
    LessonLocked,
    LessonNotFound,
    LocalCurriculumShowcaseOnly,
    NotATeacher,
    NotSelectedByCountyAndCity,
    PromotionOutOfOrder,
    TeacherLessonTaken,
    WrongLevelAdmin,
)
from lessons.events import LESSONS_OUTBOX, promoted, submitted
from lessons.models import Lesson
from lessons.showcase import quotas
from lessons.showcase import repository as repo
from lessons.showcase.models import LessonPromotion
from lessons.showcase.repository import LessonFilter
from lessons.showcase.rules import LEVELS, PROMOTER, LessonRules, track_for
from lessons.showcase.schemas import LessonCreate, LessonRead, LessonUpdate, PromotionRead
from yanxiu.kit.auth import Principal, Role
from yanxiu.kit.errors import Forbidden
from yanxiu.kit.outbox import Outbox
from yanxiu.kit.pagination import Page, decode_uuid_cursor, next_cursor
from yanxiu.kit.reads import Reader
from yanxiu.kit.scope import may_read_teacher_record

# The editable fields that `lessons.lesson_submitted` carries.
_SUBMITTED_FIELDS = {"title", "subject"}

# Which unique index stands for which rule.
_UNIQUE_RULES: dict[str, type[Exception]] = {
    "uq_lessons_city_lesson": CityLessonTaken,
    "uq_lessons_teacher_year": TeacherLessonTaken,
}


async def flush_rules(session: AsyncSession) -> None:
    """Flush; a change that breaks a uniqueness rule (maybe raced by a concurrent one) is
    reported as that rule."""
    try:
        await session.flush()
    except IntegrityError as exc:
        for index, error in _UNIQUE_RULES.items():
            if index in str(exc.orig):
                raise error() from exc
        raise


def _teacher_id(actor: Principal) -> uuid.UUID | None:
    try:
        return uuid.UUID(actor.teacher_id) if actor.teacher_id else None
    except ValueError:
        return None


def can_see(actor: Principal, lesson: Lesson) -> bool:
    """A teacher sees their own lessons; an admin those whose stored school lies under its
    org; colleagues, workshop hosts and experts none."""
    return may_read_teacher_record(actor, teacher_id=lesson.teacher_id, org_path=lesson.org_path)


async def create_lesson(
    session: AsyncSession,
    *,
    actor: Principal,
    data: LessonCreate,
    outbox: Outbox = LESSONS_OUTBOX,
) -> Lesson:
    """创课: by the teacher, attributed to the school on the teacher's token; the lesson enters
    the year's selection (晒课), announced as `lessons.lesson_submitted`."""
    teacher_id = _teacher_id(actor)
    if actor.role != Role.teacher or teacher_id is None or len(actor.org_path) != 4:
        raise NotATeacher()
    track = track_for(data.curriculum)
    if data.track is not None and data.track != track:
        raise LocalCurriculumShowcaseOnly()
    province_id, city_id, county_id, school_id = actor.org_path
    lesson = Lesson(
        id=uuid.uuid4(),
        year=data.year,
        teacher_id=teacher_id,
        teacher_name=(actor.name or "")[:50],
        stage=data.stage,
        grade=data.grade,
        subject=data.subject,
        textbook_version=data.textbook_version,
        title=data.title,
        curriculum=data.curriculum,
        track=track,
        video_url=data.video_url,
        national_platform_no=data.national_platform_no,
        province_id=province_id,
        city_id=city_id,
        county_id=county_id,
        school_id=school_id,
        level="teacher",
        provincial=False,
    )
    repo.add_lesson(session, lesson)
    await flush_rules(session)
    await session.refresh(lesson)
    await outbox.add(session, submitted(lesson))
    return lesson


async def get_lesson(reader: Reader, *, actor: Principal, lesson_id: uuid.UUID) -> Lesson:
    lesson = await repo.get_lesson(reader, lesson_id)
    if lesson is None or not can_see(actor, lesson):
        raise LessonNotFound()
    return lesson


async def selections(
    reader: Reader, *, actor: Principal, lesson_id: uuid.UUID
) -> Page[PromotionRead]:
    """遴选记录: the levels that selected the lesson, in order (at most four, one page)."""
    lesson = await get_lesson(reader, actor=actor, lesson_id=lesson_id)
    rows = await repo.promotions(reader, lesson.id)
    return Page[PromotionRead](items=[PromotionRead.model_validate(p) for p in rows])


async def list_lessons(
    reader: Reader, *, actor: Principal, where: LessonFilter, cursor: str | None, limit: int
) -> Page[LessonRead]:
    """课例列表: the caller's own lessons (teacher) or those under its org (admin)."""
    if actor.role == Role.teacher:
        teacher_id = _teacher_id(actor)
        if teacher_id is None:
            raise NotATeacher()
        where = replace(where, teacher_id=teacher_id)
    elif not actor.is_admin:
        raise Forbidden()
    where = replace(where, scope=actor.org_path)
    rows = await repo.list_lessons(
        reader, where=where, after=decode_uuid_cursor(cursor), limit=limit + 1
    )
    return Page[LessonRead](
        items=[LessonRead.model_validate(r) for r in rows[:limit]],
        next_cursor=next_cursor([str(r.id) for r in rows], limit),
    )


async def update_lesson(
    session: AsyncSession,
    *,
    actor: Principal,
    lesson_id: uuid.UUID,
    data: LessonUpdate,
    outbox: Outbox = LESSONS_OUTBOX,
) -> Lesson:
    """修改: the teacher edits the content until the school selects it; the platform number
    (assigned later by the national platform) may be filled in by the teacher or an admin."""
    lesson = await repo.lock_lesson(session, lesson_id)
    if lesson is None or not can_see(actor, lesson):
        raise LessonNotFound()
    # null means "leave as is": no field of a lesson may be emptied.
    changes = {k: v for k, v in data.model_dump(exclude_unset=True).items() if v is not None}
    content = set(changes) - {"national_platform_no"}
    if content and (actor.role != Role.teacher or lesson.level != "teacher"):
        raise LessonLocked()
    before = {field: getattr(lesson, field) for field in changes}
    for field, value in changes.items():
        setattr(lesson, field, value)
    await flush_rules(session)
    if changes:
        await AUDIT.record(
            session,
            actor=actor,
            action="lesson.update",
            target_type="lesson",
            target_id=str(lesson.id),
            target_org=lesson.org_path,
            before=before,
            after=changes,
        )
    if _SUBMITTED_FIELDS & {f for f in changes if before[f] != changes[f]}:
        # The dashboards count lessons by subject: an edit before selection re-sends the
        # snapshot (same lesson, same submitted_at), which consumers take as an upsert.
        await outbox.add(session, submitted(lesson))
    return lesson


async def admin_lesson(session: AsyncSession, *, actor: Principal, lesson_id: uuid.UUID) -> Lesson:
    """The lesson locked for a change by an admin covering it; 404 for anyone else."""
    lesson = await repo.lock_lesson(session, lesson_id)
    if lesson is None or not (actor.is_admin and actor.covers(lesson.org_path)):
        raise LessonNotFound()
    return lesson


async def promote(
    session: AsyncSession,
    *,
    actor: Principal,
    lesson_id: uuid.UUID,
    level: str,
    rules: LessonRules,
    now: datetime,
    outbox: Outbox = LESSONS_OUTBOX,
) -> Lesson:
    """晒课/赛课 逐级遴选: the admin of `level` selects the lesson from the level below,
    announced as `lessons.lesson_promoted`."""
    if actor.role != PROMOTER[level]:
        raise WrongLevelAdmin()
    lesson = await admin_lesson(session, actor=actor, lesson_id=lesson_id)
    if level == "province" and not {"county", "city"} <= await repo.promoted_levels(
        session, lesson.id
    ):
        raise NotSelectedByCountyAndCity()
    if LEVELS.index(level) != LEVELS.index(lesson.level) + 1:
        raise PromotionOutOfOrder()
    if level == "city" and not rules.city_level_open(lesson.year, now):
        raise CityDeadlinePassed()
    if level == "city" and lesson.track == "competition":
        await quotas.take_city_level_place(
            session, rules=rules, year=lesson.year, city_id=lesson.city_id
        )
    was, lesson.level = lesson.level, level
    selection = LessonPromotion(
        lesson_id=lesson.id,
        level=level,
        org_id=actor.org_path[-1],
        promoted_by=actor.user_id,
        promoted_at=now,
    )
    repo.add_promotion(session, selection)
    await flush_rules(session)
    await AUDIT.record(
        session,
        actor=actor,
        action="lesson.promote",
        target_type="lesson",
        target_id=str(lesson.id),
        target_org=lesson.org_path,
        before={"level": was},
        after={"level": level},
    )
    await outbox.add(session, promoted(lesson, selection))
    return lesson
