"""Routes of selection: school topics, the teacher's selections, suggestions."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Path, Request, Response, status
from fastapi.responses import JSONResponse

from learning.selection import service, suggestions
from learning.selection.schemas import (
    SchoolTopicsPut,
    SchoolTopicsRead,
    SelectionCreate,
    SelectionRead,
    SelectionsRead,
    SuggestionsRead,
)
from yanxiu.kit.audit_api import audited
from yanxiu.kit.bounds import ORG_ID_MAX
from yanxiu.kit.deps import CurrentUser, Reads, Session, runtime
from yanxiu.kit.idempotency import IdempotencyKey, once
from yanxiu.kit.openapi import operation_id

router = APIRouter(tags=["selection"], generate_unique_id_function=operation_id)
SchoolId = Annotated[str, Path(max_length=ORG_ID_MAX)]


@router.put(
    "/schools/{school_id}/topics",
    operation_id="setSchoolTopics",
    openapi_extra=audited("school.choose_topics"),
    response_model=SchoolTopicsRead,
    summary="学校选专题 a school's general topics (school admin; ethics added automatically)",
)
async def put_topics(
    school_id: SchoolId, body: SchoolTopicsPut, session: Session, user: CurrentUser
) -> SchoolTopicsRead:
    return await service.choose_topics(session, actor=user, school_id=school_id, body=body)


@router.get(
    "/schools/{school_id}/topics",
    operation_id="getSchoolTopics",
    response_model=SchoolTopicsRead,
    summary="a school's topics",
)
async def get_topics(
    school_id: SchoolId, project_id: uuid.UUID, db: Reads, user: CurrentUser
) -> SchoolTopicsRead:
    return await service.school_topics(db, actor=user, project_id=project_id, school_id=school_id)


@router.post(
    "/selections",
    response_model=SelectionRead,
    status_code=status.HTTP_201_CREATED,
    summary="选课 a teacher selects an elective",
)
async def select_course(
    body: SelectionCreate,
    request: Request,
    session: Session,
    user: CurrentUser,
    idempotency_key: IdempotencyKey = None,
) -> JSONResponse:
    async def run() -> SelectionRead:
        return await service.select_course(
            session, actor=user, project_id=body.project_id, course_id=body.course_id
        )

    return await once(
        session,
        runtime(request).spec.table("idempotency_keys"),
        key=idempotency_key,
        actor=user.user_id,
        operation="POST /selections",
        request=body,
        run=run,
    )


@router.get(
    "/selections",
    operation_id="listMySelections",
    response_model=SelectionsRead,
    summary="the caller's selections",
)
async def my_selections(project_id: uuid.UUID, db: Reads, user: CurrentUser) -> SelectionsRead:
    return await service.selections_of(db, actor=user, project_id=project_id)


@router.delete(
    "/selections/{selection_id}",
    operation_id="unselectCourse",
    status_code=status.HTTP_204_NO_CONTENT,
    response_class=Response,
    summary="退选 drop a selection",
)
async def unselect(selection_id: uuid.UUID, session: Session, user: CurrentUser) -> Response:
    await service.unselect(session, actor=user, selection_id=selection_id)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.get(
    "/plans/{teacher_id}/suggestions",
    operation_id="suggestCourses",
    response_model=SuggestionsRead,
    summary="选课建议 courses that fill the remaining hours",
)
async def suggest(
    teacher_id: uuid.UUID, project_id: uuid.UUID, db: Reads, user: CurrentUser
) -> SuggestionsRead:
    return await suggestions.suggest(db, actor=user, teacher_id=teacher_id, project_id=project_id)
