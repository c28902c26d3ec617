"""Thin routes: 组织机构: the province → city → county → school tree and its admins."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Query, Request
from fastapi.responses import JSONResponse

from enrollment.orgs import service
from enrollment.orgs.schemas import OrgCreate, OrgRead
from yanxiu.kit.audit_api import audited
from yanxiu.kit.bounds import ORG_ID_MAX
from yanxiu.kit.deps import CurrentUser, Session, runtime
from yanxiu.kit.idempotency import IdempotencyKey, once
from yanxiu.kit.openapi import operation_id
from yanxiu.kit.pagination import MAX_LIMIT, Page

router = APIRouter(generate_unique_id_function=operation_id)


@router.get("/orgs", response_model=Page[OrgRead], tags=["orgs"], summary="组织机构 children")
async def list_orgs(
    session: Session,
    user: CurrentUser,
    parent_id: Annotated[str | None, Query(max_length=40)] = None,
    cursor: Annotated[str | None, Query(max_length=200)] = None,
    limit: Annotated[int, Query(ge=1, le=MAX_LIMIT)] = 100,
) -> Page[OrgRead]:
    return await service.list_orgs(
        session, actor=user, parent_id=parent_id, cursor=cursor, limit=limit
    )


@router.get("/orgs/{org_id}", response_model=OrgRead, tags=["orgs"], summary="组织机构 one org")
async def get_org(
    org_id: Annotated[str, Path(max_length=ORG_ID_MAX)], session: Session, user: CurrentUser
) -> OrgRead:
    return OrgRead.model_validate(await service.get_org(session, actor=user, org_id=org_id))


@router.post(
    "/orgs",
    openapi_extra=audited("org.create_school"),
    response_model=OrgRead,
    status_code=201,
    tags=["orgs"],
    summary="新增学校 add a school",
)
async def create_school(
    body: OrgCreate,
    request: Request,
    session: Session,
    user: CurrentUser,
    idempotency_key: IdempotencyKey = None,
) -> JSONResponse:
    async def run() -> OrgRead:
        return OrgRead.model_validate(await service.create_school(session, actor=user, data=body))

    return await once(
        session,
        runtime(request).spec.table("idempotency_keys"),
        key=idempotency_key,
        actor=user.user_id,
        operation=f"POST {request.url.path}",
        request=body,
        run=run,
    )
