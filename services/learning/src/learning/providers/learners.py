"""What an outside completion needs before it counts: the teacher's active plan in the project
(inside the provider's province) and the course, from the catalogue or the provider's own."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from decimal import Decimal

from sqlalchemy import or_, select
from sqlalchemy.ext.asyncio import AsyncSession

# The same check attainment makes on every channel; here before the plan is looked up.
from learning.attainment.windows import FUTURE_TOLERANCE as FUTURE_TOLERANCE
from learning.attainment.windows import ensure_not_future as ensure_not_future
from learning.catalog.models import Course
from learning.models import Plan
from learning.providers.errors import (
    CourseUnresolvable,
    LearnerNotRegistered,
    UnknownCategory,
)
from learning.providers.models import Provider
from learning.providers.schemas import CATEGORIES
from yanxiu.kit.reads import Db, first
from yanxiu.kit.writes import SessionReads


@dataclass(frozen=True)
class ResolvedCourse:
    course_id: uuid.UUID | None
    title: str
    category: str
    hours: Decimal
    # The catalogue row, held for the rest of the request: the session's identity map keeps
    # only what is referenced, and attainment reads the same course again by its id.
    entry: Course | None = None


async def active_plan(
    session: AsyncSession, *, provider: Provider, teacher_id: uuid.UUID, project_id: uuid.UUID
) -> Plan:
    """The teacher's active plan; a provider reports only for teachers of its own province.
    Checked and copied from (learning changes plans by statements, never through instances):
    read on the write's own connection."""
    plan = await first(
        SessionReads(session),
        Plan,
        select(Plan).where(
            Plan.teacher_id == teacher_id,
            Plan.project_id == project_id,
            Plan.status == "active",
            Plan.province_id == provider.province_id,
        ),
    )
    if plan is None:
        raise LearnerNotRegistered(teacher_id=str(teacher_id), project_id=str(project_id))
    return plan


async def catalogue_course(
    db: Db, *, course_id: uuid.UUID | None = None, code: str | None = None
) -> Course | None:
    clauses = []
    if course_id is not None:
        clauses.append(Course.id == course_id)
    if code is not None:
        clauses.append(Course.code == code)
    if not clauses:
        return None
    return await first(db, Course, select(Course).where(or_(*clauses)).limit(1))


async def resolve_course(
    session: AsyncSession,
    *,
    course_id: uuid.UUID | None = None,
    code: str | None = None,
    title: str | None = None,
    category: str | None = None,
    hours: Decimal | None = None,
) -> ResolvedCourse:
    """A catalogue course wins (its hours and category are authoritative); otherwise the
    provider's own course must carry a title, a known category and positive hours."""
    # only checked and copied from: read on the write's own connection
    course = await catalogue_course(SessionReads(session), course_id=course_id, code=code)
    if course is not None:
        return ResolvedCourse(
            course.id, course.title, course.category, Decimal(course.hours), entry=course
        )
    if title is None or category is None or hours is None:
        raise CourseUnresolvable(course_id=str(course_id) if course_id else None, course_code=code)
    if category not in CATEGORIES:
        raise UnknownCategory(category=category, allowed=list(CATEGORIES))
    if not Decimal(0) < hours <= Decimal(200):
        raise CourseUnresolvable("学时须在 0–200 之间", "Hours must be within 0–200")
    return ResolvedCourse(None, title, category, hours)
