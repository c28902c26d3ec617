"""Routes of allocation (观评课分配)."""

from __future__ import annotations

import uuid

from fastapi import APIRouter

from lessons.allocation import service
from lessons.allocation.schemas import AllocationCreate, AllocationRead, AssignmentRead
from lessons.deps import EventOutbox
from yanxiu.kit.audit_api import audited
from yanxiu.kit.deps import CurrentUser, Reads, Session
from yanxiu.kit.openapi import operation_id

router = APIRouter(tags=["allocations"], generate_unique_id_function=operation_id)


@router.post(
    "/allocations",
    operation_id="allocateReviews",
    openapi_extra=audited("allocation.run"),
    response_model=AllocationRead,
    status_code=201,
    summary="分配观评课 allocate peer reviews for a project (province admin)",
)
async def allocate(
    body: AllocationCreate, session: Session, user: CurrentUser, outbox: EventOutbox
) -> AllocationRead:
    run = await service.allocate_reviews(
        session,
        actor=user,
        outbox=outbox,
        project_id=body.project_id,
        seed=body.seed,
        per=body.reviews_per_teacher,
        exclude_own_school=body.exclude_own_school,
    )
    return AllocationRead.model_validate(run)


@router.get(
    "/allocations/{run_id}",
    operation_id="getAllocationRun",
    response_model=AllocationRead,
    summary="分配批次 a run",
)
async def get_run(run_id: uuid.UUID, db: Reads, user: CurrentUser) -> AllocationRead:
    return AllocationRead.model_validate(await service.get_run(db, actor=user, run_id=run_id))


@router.get(
    "/assignments",
    operation_id="listAssignments",
    response_model=list[AssignmentRead],
    summary="观评课任务 a teacher's lessons",
)
async def assignments(
    teacher_id: uuid.UUID, db: Reads, user: CurrentUser, project_id: uuid.UUID | None = None
) -> list[AssignmentRead]:
    rows = await service.assignments(db, actor=user, teacher_id=teacher_id, project_id=project_id)
    return [AssignmentRead(**row) for row in rows]
