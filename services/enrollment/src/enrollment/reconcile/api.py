"""Thin routes of the reconciliation (核对): the report and its repair, for county, city and
province admins, each under its own org."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Query

from enrollment.deps import EventOutbox
from enrollment.reconcile import repair as repairs
from enrollment.reconcile import service
from enrollment.reconcile.clients import ConsumerRosters
from enrollment.reconcile.schemas import ReconciliationRead, RepairRead
from yanxiu.kit.audit_api import audited
from yanxiu.kit.bounds import Cursor
from yanxiu.kit.deps import CurrentUser, Session
from yanxiu.kit.openapi import operation_id
from yanxiu.kit.pagination import MAX_LIMIT

router = APIRouter(tags=["reconciliation"], generate_unique_id_function=operation_id)


@router.get(
    "/projects/{project_id}/reconciliation",
    response_model=ReconciliationRead,
    summary="名册核对 registrations vs plans, review pools and credits' teachers",
)
async def reconciliation(
    project_id: uuid.UUID,
    session: Session,
    user: CurrentUser,
    consumers: ConsumerRosters,
    cursor: Cursor | None = None,
    limit: Annotated[int, Query(ge=1, le=MAX_LIMIT)] = 100,
) -> ReconciliationRead:
    return await service.reconcile(
        session,
        actor=user,
        project_id=project_id,
        consumers=consumers,
        cursor=cursor,
        limit=limit,
    )


@router.post(
    "/projects/{project_id}/reconciliation/repair",
    operation_id="repairReconciliation",
    openapi_extra=audited("reconciliation.repair"),
    response_model=RepairRead,
    summary="修复 re-send enrollment's events for the drifted teachers",
)
async def repair(
    project_id: uuid.UUID,
    session: Session,
    user: CurrentUser,
    outbox: EventOutbox,
    consumers: ConsumerRosters,
) -> RepairRead:
    return await repairs.repair(
        session, outbox, actor=user, project_id=project_id, consumers=consumers
    )
