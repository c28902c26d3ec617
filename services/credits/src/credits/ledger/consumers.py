"""Typed handlers: learning's and lessons' facts become ledger entries (exactly once: the inbox
and the ledger's unique source constraint), and enrollment's events keep the teacher read
model. Batch handlers keep order per teacher (topics are keyed by teacher id)."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy.ext.asyncio import AsyncSession

from credits.ledger import follow, service
from credits.ledger.regions import region_for
from credits.ledger.repository import upsert_teachers
from credits.ledger.service import EntryIn, shanghai_day
from yanxiu.contracts.enrollment import (
    ENROLLMENT_TOPIC,
    TeacherCreated,
    TeacherRegistered,
    TeacherTransferred,
    TeacherUpdated,
)
from yanxiu.contracts.learning import (
    LEARNING_TOPIC,
    CourseCompleted,
    CourseCompletionRevoked,
    RequirementsMet,
    RequirementsUnmet,
)
from yanxiu.contracts.lessons import LESSONS_TOPIC, LessonAwarded
from yanxiu.kit.consumer import Subscriber

upstream_events = Subscriber(
    group="credits.upstream", topics=[LEARNING_TOPIC, LESSONS_TOPIC, ENROLLMENT_TOPIC]
)


@upstream_events.handler
async def on_course_completed(session: AsyncSession, events: list[CourseCompleted]) -> None:
    """课程完成: per-course hours, where the teacher's region counts courses (e.g. Zhaoqing);
    a course once per teacher and project, whatever completion ids arrive (its identity as
    learning sent it, or derived from an older event's fields)."""
    entries = [
        EntryIn(
            teacher_id=e.teacher_id,
            source_kind="provider" if e.source in ("provider", "xapi") else "course",
            source_id=str(e.completion_id),
            category=e.category,
            hours=e.hours,
            occurred_at=e.completed_at,
            org=e.org,
            description=e.course_title,
            project_id=e.project_id,
            course_key=e.counted_course(),
        )
        for e in events
        if region_for(e.org).count_course_completions
    ]
    await service.post_entries(session, entries, strict=False)


@upstream_events.handler
async def on_completion_revoked(session: AsyncSession, event: CourseCompletionRevoked) -> None:
    for kind in ("course", "provider"):
        await service.reverse_source(
            session,
            teacher_id=event.teacher_id,
            source_kind=kind,
            source_id=str(event.completion_id),
            reason=event.reason,
        )


@upstream_events.handler
async def on_requirements_met(session: AsyncSession, events: list[RequirementsMet]) -> None:
    """完成项目学习任务: the project's credit (Shandong: 24–28), once per teacher and project."""
    entries = []
    for e in events:
        region = region_for(e.org)
        if region.count_requirements_met:
            entries.append(
                EntryIn(
                    teacher_id=e.teacher_id,
                    source_kind="project",
                    source_id=str(e.project_id),
                    category="project",
                    hours=region.project_credits(e.total_hours),
                    occurred_at=e.met_at,
                    org=e.org,
                    description=f"{e.project_year}年度培训项目（{e.rule_set}）",
                    year=e.project_year,
                )
            )
    await service.post_entries(session, entries, strict=False)


@upstream_events.handler
async def on_requirements_unmet(session: AsyncSession, event: RequirementsUnmet) -> None:
    await service.reverse_source(
        session,
        teacher_id=event.teacher_id,
        source_kind="project",
        source_id=str(event.project_id),
        reason=event.reason,
    )


@upstream_events.handler
async def on_lesson_awarded(session: AsyncSession, events: list[LessonAwarded]) -> None:
    """优课获奖 credit, where the region's rules grant hours for the award level."""
    entries = []
    for e in events:
        region = region_for(e.org)
        hours = region.award_hours.get(e.award)
        if hours:
            entries.append(
                EntryIn(
                    teacher_id=e.teacher_id,
                    source_kind="award",
                    source_id=str(e.award_id),
                    category=region.award_category,
                    hours=hours,
                    occurred_at=e.awarded_at,
                    org=e.org,
                    description=f"优课获奖：{e.lesson_title}",
                    year=e.year,
                )
            )
    await service.post_entries(session, entries, strict=False)


async def _know_teachers(
    session: AsyncSession, events: Sequence[TeacherRegistered | TeacherCreated | TeacherUpdated]
) -> None:
    """The teacher read model: name and place as enrollment last said (later events win).
    Certificates and offline records take the teacher's name and org from here, never from a
    request body, and scope every read and write by it."""
    latest = {e.teacher_id: e for e in events}
    await upsert_teachers(
        session,
        [
            {
                "teacher_id": e.teacher_id,
                "name": e.teacher_name,
                "province_id": e.org.province_id,
                "city_id": e.org.city_id,
                "county_id": e.org.county_id,
                "school_id": e.org.school_id,
            }
            for e in latest.values()
        ],
    )


@upstream_events.handler
async def on_teacher_registered(session: AsyncSession, events: list[TeacherRegistered]) -> None:
    await _know_teachers(session, events)


@upstream_events.handler
async def on_teacher_created(session: AsyncSession, events: list[TeacherCreated]) -> None:
    """教师信息采集: every teacher is known, registered in a project or not (offline hours and
    a region's yearly credits concern all of them)."""
    await _know_teachers(session, events)


@upstream_events.handler
async def on_teacher_updated(session: AsyncSession, events: list[TeacherUpdated]) -> None:
    """A corrected name shows on the next certificate and record."""
    await _know_teachers(session, events)


@upstream_events.handler
async def on_teacher_transferred(session: AsyncSession, event: TeacherTransferred) -> None:
    """调动, or a take-in from the departed pool: the teacher's place, this year's and later
    years' totals and the certificates follow to the new school (`credits.ledger.follow`).
    (A departure changes nothing in credits: see that module.)"""
    await follow.follow_teacher(
        session,
        teacher_id=event.teacher_id,
        org=event.to_org,
        since_year=shanghai_day(event.transferred_at).year,
    )
