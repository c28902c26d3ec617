"""课程: managing and listing the course catalogue."""

from __future__ import annotations

import uuid

from sqlalchemy.ext.asyncio import AsyncSession

from learning.audit import AUDIT
from learning.catalog import repository as repo
from learning.catalog.models import Course, Topic
from learning.catalog.schemas import CourseCreate, CourseRead, QuestionRead
from learning.errors import CourseCodeTaken, CourseNotFound, TopicUnknown
from learning.providers import xapi_mapping
from yanxiu.kit.auth import Principal, Role
from yanxiu.kit.pagination import Page, decode_uuid_cursor, next_cursor
from yanxiu.kit.reads import Reader


async def create_course(
    session: AsyncSession, *, actor: Principal, body: CourseCreate
) -> CourseRead:
    """The province's project office adds a course (课程资源建设)."""
    actor.ensure_role(Role.province_admin)
    if body.topic_id is not None and not await repo.topic_ids(session, [body.topic_id]):
        raise TopicUnknown(f"没有专题 {body.topic_id}", f"No topic {body.topic_id}")
    if await repo.code_taken(session, body.code):
        raise CourseCodeTaken(f"课程编号 {body.code} 已存在", f"Course code {body.code} exists")
    course = Course(
        id=uuid.uuid4(),
        **body.model_dump(exclude={"assessment"}),
        assessment=[q.model_dump() for q in body.assessment],
    )
    session.add(course)
    await session.flush()
    await AUDIT.record(
        session,
        actor=actor,
        action="course.create",
        target_type="course",
        target_id=str(course.id),
        after=body.model_dump(exclude={"assessment"}),
    )
    # Completion statements that named this course before it was in the catalogue count now.
    await xapi_mapping.map_waiting(session, course_keys=[course.code[:60], str(course.id)])
    return read(course)


async def get_course(reader: Reader, *, course_id: uuid.UUID) -> CourseRead:
    course = await reader.get(Course, course_id)
    if course is None:
        raise CourseNotFound()
    return read(course)


async def list_courses(
    reader: Reader,
    *,
    stage: str | None = None,
    subject: str | None = None,
    scope: str | None = None,
    kind: str | None = None,
    topic_id: str | None = None,
    cursor: str | None = None,
    limit: int = 50,
) -> Page[CourseRead]:
    rows = await repo.list_courses(
        reader,
        stage=stage,
        subject=subject,
        scope=scope,
        kind=kind,
        topic_id=topic_id,
        after=decode_uuid_cursor(cursor),
        limit=limit,
    )
    return Page(
        items=[read(c) for c in rows[:limit]],
        next_cursor=next_cursor([str(c.id) for c in rows], limit),
    )


async def topics(reader: Reader) -> list[Topic]:
    return await repo.topics(reader)


def read(course: Course) -> CourseRead:
    """The public view: questions without their answers."""
    return CourseRead(
        id=course.id,
        code=course.code,
        title=course.title,
        kind=course.kind,
        scope=course.scope,
        delivery=course.delivery,
        category=course.category,
        topic_id=course.topic_id,
        hours=course.hours,
        stages=list(course.stages),
        subjects=list(course.subjects),
        video_seconds=course.video_seconds,
        pass_mark=course.pass_mark,
        questions=[
            QuestionRead(id=q["id"], text=q["text"], options=q["options"])
            for q in course.assessment
            if {"id", "text", "options"} <= q.keys()
        ],
    )
