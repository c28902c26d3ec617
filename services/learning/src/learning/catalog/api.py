"""Routes of the catalogue: courses and topics."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Query, Request, status
from fastapi.responses import JSONResponse

from learning.catalog import service
from learning.catalog.schemas import CourseCreate, CourseRead, Kind, Scope, TopicRead
from yanxiu.kit.audit_api import audited
from yanxiu.kit.bounds import Cursor
from yanxiu.kit.deps import CurrentUser, Reads, Session, runtime
from yanxiu.kit.idempotency import IdempotencyKey, once
from yanxiu.kit.openapi import operation_id
from yanxiu.kit.pagination import MAX_LIMIT, Page

router = APIRouter(tags=["courses"], generate_unique_id_function=operation_id)


@router.post(
    "/courses",
    openapi_extra=audited("course.create"),
    response_model=CourseRead,
    status_code=status.HTTP_201_CREATED,
    summary="新增课程 add a course (province admin)",
)
async def create_course(
    body: CourseCreate,
    request: Request,
    session: Session,
    user: CurrentUser,
    idempotency_key: IdempotencyKey = None,
) -> JSONResponse:
    async def run() -> CourseRead:
        return await service.create_course(session, actor=user, body=body)

    return await once(
        session,
        runtime(request).spec.table("idempotency_keys"),
        key=idempotency_key,
        actor=user.user_id,
        operation="POST /courses",
        request=body,
        run=run,
    )


@router.get("/courses", response_model=Page[CourseRead], summary="课程列表 list courses")
async def list_courses(
    db: Reads,
    user: CurrentUser,
    stage: Annotated[str | None, Query(max_length=40)] = None,
    subject: Annotated[str | None, Query(max_length=40)] = None,
    scope: Scope | None = None,
    kind: Kind | None = None,
    topic: Annotated[str | None, Query(max_length=40)] = None,
    cursor: Cursor | None = None,
    limit: Annotated[int, Query(ge=1, le=MAX_LIMIT)] = 50,
) -> Page[CourseRead]:
    return await service.list_courses(
        db,
        stage=stage,
        subject=subject,
        scope=scope,
        kind=kind,
        topic_id=topic,
        cursor=cursor,
        limit=limit,
    )


@router.get("/courses/{course_id}", response_model=CourseRead, summary="one course")
async def get_course(course_id: uuid.UUID, db: Reads, user: CurrentUser) -> CourseRead:
    return await service.get_course(db, course_id=course_id)


@router.get(
    "/topics",
    operation_id="listTopics",
    response_model=list[TopicRead],
    summary="通识专题 general topics",
)
async def topics(db: Reads, user: CurrentUser) -> list[TopicRead]:
    return [TopicRead.model_validate(t) for t in await service.topics(db)]
