"""Routes of attainment: a teacher's hours and requirement status."""

from __future__ import annotations

import uuid

from fastapi import APIRouter

from learning.attainment import queries, school_based
from learning.attainment.schemas import ProgressRead, SchoolBasedHours, SchoolBasedResult
from yanxiu.kit.audit_api import audited
from yanxiu.kit.deps import CurrentUser, Session

router = APIRouter(tags=["plans"])


@router.get(
    "/plans/{teacher_id}/progress",
    response_model=ProgressRead,
    summary="学时认定 hours by category and requirement status",
)
async def progress(
    teacher_id: uuid.UUID,
    session: Session,
    user: CurrentUser,
    project_id: uuid.UUID | None = None,
) -> ProgressRead:
    return await queries.progress_of(
        session, actor=user, teacher_id=teacher_id, project_id=project_id
    )


@router.post(
    "/plans/{teacher_id}/school-based-hours",
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
