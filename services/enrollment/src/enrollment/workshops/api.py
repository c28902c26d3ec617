"""Thin routes: 工作坊 workshops, hosts, members and cases."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Query, Request

from enrollment.workshops import service
from enrollment.workshops.schemas import (
    CaseCreate,
    CaseRead,
    Host,
    HostsSet,
    JoinRequest,
    MemberRead,
    WorkshopCreate,
    WorkshopRead,
)
from yanxiu.kit.audit_api import audited
from yanxiu.kit.deps import CurrentUser, Session, runtime
from yanxiu.kit.openapi import operation_id
from yanxiu.kit.pagination import MAX_LIMIT, Page

router = APIRouter(tags=["workshops"], generate_unique_id_function=operation_id)
Cursor = Annotated[str | None, Query(max_length=200)]
Limit = Annotated[int, Query(ge=1, le=MAX_LIMIT)]


@router.post(
    "/workshops",
    openapi_extra=audited("workshop.create"),
    response_model=WorkshopRead,
    status_code=201,
    summary="创建工作坊",
)
async def create_workshop(
    body: WorkshopCreate, session: Session, user: CurrentUser
) -> WorkshopRead:
    return WorkshopRead.model_validate(
        await service.create_workshop(session, actor=user, data=body)
    )


@router.get("/workshops", response_model=Page[WorkshopRead], summary="工作坊 list")
async def list_workshops(
    session: Session,
    user: CurrentUser,
    project_id: uuid.UUID,
    subject: Annotated[str | None, Query(max_length=40)] = None,
    cursor: Cursor = None,
    limit: Limit = 100,
) -> Page[WorkshopRead]:
    return await service.list_workshops(
        session, actor=user, project_id=project_id, subject=subject, cursor=cursor, limit=limit
    )


@router.get("/workshops/{workshop_id}", response_model=WorkshopRead, summary="工作坊 one")
async def get_workshop(workshop_id: uuid.UUID, session: Session, user: CurrentUser) -> WorkshopRead:
    return WorkshopRead.model_validate(
        await service.get_workshop(session, actor=user, workshop_id=workshop_id)
    )


@router.put(
    "/workshops/{workshop_id}/hosts",
    operation_id="setWorkshopHosts",
    openapi_extra=audited("workshop.set_hosts"),
    response_model=list[Host],
    summary="指定主持人",
)
async def set_hosts(
    workshop_id: uuid.UUID, body: HostsSet, session: Session, user: CurrentUser
) -> list[Host]:
    rows = await service.set_hosts(session, actor=user, workshop_id=workshop_id, hosts=body.hosts)
    return [Host.model_validate(h) for h in rows]


@router.get(
    "/workshops/{workshop_id}/hosts",
    operation_id="listWorkshopHosts",
    response_model=list[Host],
    summary="主持人",
)
async def list_hosts(workshop_id: uuid.UUID, session: Session, user: CurrentUser) -> list[Host]:
    rows = await service.list_hosts(session, actor=user, workshop_id=workshop_id)
    return [Host.model_validate(h) for h in rows]


@router.post(
    "/workshops/{workshop_id}/activation",
    operation_id="activateWorkshop",
    openapi_extra=audited("workshop.activate"),
    response_model=WorkshopRead,
    summary="启用",
)
async def activate(workshop_id: uuid.UUID, session: Session, user: CurrentUser) -> WorkshopRead:
    return WorkshopRead.model_validate(
        await service.activate(session, actor=user, workshop_id=workshop_id)
    )


@router.post(
    "/workshops/{workshop_id}/members",
    operation_id="joinWorkshop",
    openapi_extra=audited("workshop.join"),
    response_model=MemberRead,
    status_code=201,
    summary="加入工作坊 join",
)
async def join(
    workshop_id: uuid.UUID,
    body: JoinRequest,
    request: Request,
    session: Session,
    user: CurrentUser,
) -> MemberRead:
    member = await service.join(
        session,
        runtime(request).outbox,
        actor=user,
        workshop_id=workshop_id,
        teacher_id=body.teacher_id,
    )
    return MemberRead.model_validate(member)


@router.post(
    "/workshops/{workshop_id}/cases",
    operation_id="submitWorkshopCase",
    openapi_extra=audited("workshop_case.submit"),
    response_model=CaseRead,
    status_code=201,
    summary="提交案例 submit a case",
)
async def submit_case(
    workshop_id: uuid.UUID, body: CaseCreate, session: Session, user: CurrentUser
) -> CaseRead:
    return CaseRead.model_validate(
        await service.submit_case(session, actor=user, workshop_id=workshop_id, data=body)
    )


@router.get(
    "/workshops/{workshop_id}/cases",
    operation_id="listWorkshopCases",
    response_model=Page[CaseRead],
    summary="案例",
)
async def list_cases(
    workshop_id: uuid.UUID,
    session: Session,
    user: CurrentUser,
    cursor: Cursor = None,
    limit: Limit = 100,
) -> Page[CaseRead]:
    return await service.list_cases(
        session, actor=user, workshop_id=workshop_id, cursor=cursor, limit=limit
    )


@router.post(
    "/workshop-cases/{case_id}/recommendation",
    operation_id="recommendWorkshopCase",
    openapi_extra=audited("workshop_case.recommend"),
    response_model=CaseRead,
    summary="推荐案例 recommend upward / select as exemplary",
)
async def recommend(case_id: uuid.UUID, session: Session, user: CurrentUser) -> CaseRead:
    return CaseRead.model_validate(await service.recommend(session, actor=user, case_id=case_id))
