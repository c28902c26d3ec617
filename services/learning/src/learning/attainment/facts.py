"""A reported completion with its course resolved and its course identity (课程标识), and the
answer to whoever reported it."""

from __future__ import annotations

import uuid
from dataclasses import asdict, dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any, Literal

from sqlalchemy.ext.asyncio import AsyncSession

from learning.attainment.models import CompletionAttempt
from learning.catalog.models import Course
from learning.errors import CompletionIncomplete, CourseNotFound
from learning.models import Plan
from yanxiu.contracts.learning import course_key_for
from yanxiu.kit.writes import SessionReads

# counted: it counts now; already_recorded: this very fact was recorded before (a replay);
# already_counted: the course counts already (another channel, event or statement id), so
# this is an attempt that may raise the best score; held: waiting for an admin's decision.
Status = Literal["counted", "already_recorded", "already_counted", "held"]


@dataclass(frozen=True)
class Recorded:
    """What became of a reported completion. `completion_id` is the completion counting for
    the course: this one, or the earlier one it repeats (already_counted); `attempt_id` the
    attempt or held row it became, if any."""

    status: Status
    completion_id: uuid.UUID | None
    course_key: str
    attempt_id: uuid.UUID | None = None
    best_score: Decimal | None = None


@dataclass(frozen=True)
class CourseGiven:
    """The course as the sender named it: a catalogue id, or its own title, category, hours
    and (optionally) its own code."""

    course_id: uuid.UUID | None = None
    title: str | None = None
    category: str | None = None
    hours: Decimal | None = None
    code: str | None = None


@dataclass(frozen=True)
class Fact:
    """One completion: the columns both `completions` and `completion_attempts` hold."""

    teacher_id: uuid.UUID
    project_id: uuid.UUID
    source: str
    source_ref: str
    course_key: str
    course_id: uuid.UUID | None
    course_code: str | None  # the catalogue's code (compulsory courses are named by it)
    course_title: str
    category: str
    topic_id: str | None
    hours: Decimal
    provider_id: str | None
    completed_at: datetime
    score: Decimal | None = None

    def row(self, **extra: Any) -> dict[str, Any]:
        """The columns to insert (the score only where `extra` names it), with `extra`."""
        values = asdict(self)
        del values["score"]
        return {**values, **extra}

    @classmethod
    def of(cls, a: CompletionAttempt) -> Fact:
        return cls(
            teacher_id=a.teacher_id,
            project_id=a.project_id,
            source=a.source,
            source_ref=a.source_ref,
            course_key=a.course_key,
            course_id=a.course_id,
            course_code=a.course_code,
            course_title=a.course_title,
            category=a.category,
            topic_id=a.topic_id,
            hours=Decimal(a.hours),
            provider_id=a.provider_id,
            completed_at=a.completed_at,
            score=a.score,
        )


async def resolve(
    session: AsyncSession,
    *,
    plan: Plan,
    source: str,
    source_ref: str,
    completed_at: datetime,
    course: CourseGiven,
    provider_id: str | None,
    score: Decimal | None,
) -> Fact:
    """The fact with its course: the catalogue's title, category and hours when the id is a
    catalogue course, else the sender's (all three needed)."""
    # the catalogue course is only copied from: read on the write's own connection
    known = (
        await SessionReads(session).get(Course, course.course_id)
        if course.course_id is not None
        else None
    )
    if (
        course.course_id is not None
        and known is None
        and None
        in (
            course.title,
            course.category,
            course.hours,
        )
    ):
        raise CourseNotFound()
    title = known.title if known else course.title
    category = known.category if known else course.category
    hours = known.hours if known else course.hours
    if title is None or category is None or hours is None:
        raise CompletionIncomplete()
    return Fact(
        teacher_id=plan.teacher_id,
        project_id=plan.project_id,
        source=source,
        source_ref=source_ref,
        course_key=course_key_for(
            source=source,
            source_ref=source_ref,
            course_id=course.course_id,
            provider_id=provider_id,
            title=title,
            code=None if known else course.code,
        ),
        course_id=course.course_id,
        course_code=known.code if known else None,
        course_title=title[:200],
        category=category,
        topic_id=known.topic_id if known else None,
        hours=Decimal(hours),
        provider_id=provider_id,
        completed_at=completed_at,
        score=score,
    )
