"""Routes of attainment: a teacher's hours and requirement status, school-based hours, and
admins' decisions on held completions."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Query

from learning.attainment import held, queries, school_based
from learning.attainment.schemas import (
    HeldCompletionRead,
    HeldDecision,
    HeldPage,
    ProgressRead,
    SchoolBasedHours,
    SchoolBasedResult,
)
from yanxiu.kit.audit_api import audited
from yanxiu.kit.deps import CurrentUser, Reads, Session
from yanxiu.kit.openapi import operation_id

router = APIRouter(tags=["plans"], generate_unique_id_function=operation_id)


@router.get(
    "/plans/{teacher_id}/progress",
    operation_id="getPlanProgress",
    response_model=ProgressRead,
    summary="学时认定 hours by category and requirement status",
)
async def progress(
    teacher_id: uuid.UUID,
    db: Reads,
    user: CurrentUser,
    project_id: uuid.UUID | None = None,
) -> ProgressRead:
    return await queries.progress_of(db, actor=user, teacher_id=teacher_id, project_id=project_id)


@router.post(
    "/plans/{teacher_id}/school-based-hours",
    operation_id="recordSchoolBasedHours",
    openapi_extra=audited("plan.school_based_hours"),
    response_model=SchoolBasedResult,
    summary="校本研修学时 a school records a teacher's school-based hours (school admin)",
)
async def school_based_hours(
    teacher_id: uuid.UUID, body: SchoolBasedHours, session: Session, user: CurrentUser
) -> SchoolBasedResult:
    return await school_based.record_school_based(
        session, actor=user, teacher_id=teacher_id, body=body
    )


@router.get(
    "/completions/held",
    operation_id="listHeldCompletions",
    response_model=HeldPage,
    tags=["completions"],
    summary="待审完成记录 late completions held for a decision (admins, own subtree)",
)
async def held_completions(
    db: Reads,
    user: CurrentUser,
    project_id: uuid.UUID | None = None,
    cursor: Annotated[str | None, Query(max_length=200)] = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
) -> HeldPage:
    return await held.list_held(db, actor=user, project_id=project_id, cursor=cursor, limit=limit)


@router.post(
    "/completions/held/{attempt_id}/decision",
    operation_id="decideHeldCompletion",
    openapi_extra=audited("completion.decide_held"),
    response_model=HeldCompletionRead,
    tags=["completions"],
    summary="审核待审完成记录 accept (counts, once per course) or reject a held completion",
)
async def decide_held(
    attempt_id: uuid.UUID, body: HeldDecision, session: Session, user: CurrentUser
) -> HeldCompletionRead:
    return await held.decide(session, actor=user, attempt_id=attempt_id, body=body)
