"""Routes of IT 2.0 certification (信息技术应用能力提升工程2.0): the ability-point catalogue,
teachers' roles, certification material and the school's assessment."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Query, Request, status
from fastapi.responses import JSONResponse

from learning.abilities import queries, service
from learning.abilities.models import CertificationStatus, ItemKind
from learning.abilities.schemas import (
    AssessmentIn,
    CatalogueRead,
    CertificationDetail,
    CertificationRead,
    CertificationSubmit,
    RolePut,
    RoleRead,
    StandingRead,
)
from yanxiu.kit.audit_api import audited
from yanxiu.kit.bounds import Cursor, OrgId
from yanxiu.kit.deps import CurrentUser, Reads, Session, runtime
from yanxiu.kit.idempotency import IdempotencyKey, once
from yanxiu.kit.openapi import operation_id
from yanxiu.kit.pagination import MAX_LIMIT, Page

router = APIRouter(
    prefix="/abilities", tags=["abilities"], generate_unique_id_function=operation_id
)


@router.get(
    "/catalogue",
    operation_id="getAbilityCatalogue",
    response_model=CatalogueRead,
    summary="微能力点目录 the IT 2.0 ability points (with a project: credits per point)",
)
async def catalogue(
    db: Reads, user: CurrentUser, project_id: uuid.UUID | None = None
) -> CatalogueRead:
    return await queries.catalogue_read(db, project_id=project_id)


@router.get(
    "/plans/{teacher_id}",
    operation_id="getAbilityStanding",
    response_model=StandingRead,
    summary="角色、任务与能力点学分 a teacher's role, tasks and ability credits in a project",
)
async def standing(
    teacher_id: uuid.UUID, project_id: uuid.UUID, db: Reads, user: CurrentUser
) -> StandingRead:
    return await queries.standing(db, actor=user, teacher_id=teacher_id, project_id=project_id)


@router.put(
    "/plans/{teacher_id}/role",
    operation_id="setAbilityRole",
    openapi_extra=audited("plan.set_role"),
    response_model=RoleRead,
    summary="设置角色 a teacher's role in the project (school admin)",
)
async def set_role(
    teacher_id: uuid.UUID, body: RolePut, session: Session, user: CurrentUser
) -> RoleRead:
    return await service.set_role(session, actor=user, teacher_id=teacher_id, body=body)


@router.post(
    "/certifications",
    operation_id="submitCertification",
    openapi_extra=audited("certification.submit"),
    response_model=CertificationRead,
    status_code=status.HTTP_201_CREATED,
    summary="提交认证材料 submit material for an ability point or a role task (teacher)",
)
async def submit(
    body: CertificationSubmit,
    request: Request,
    session: Session,
    user: CurrentUser,
    idempotency_key: IdempotencyKey = None,
) -> JSONResponse:
    async def run() -> CertificationRead:
        return await service.submit(session, actor=user, body=body)

    return await once(
        session,
        runtime(request).spec.table("idempotency_keys"),
        key=idempotency_key,
        actor=user.user_id,
        operation="POST /abilities/certifications",
        request=body,
        run=run,
    )


@router.get(
    "/certifications",
    response_model=Page[CertificationRead],
    summary="认证材料列表 a teacher's own; an admin's subtree (status=submitted: waiting)",
)
async def list_certifications(
    project_id: uuid.UUID,
    db: Reads,
    user: CurrentUser,
    status: CertificationStatus | None = None,
    item_kind: ItemKind | None = None,
    school_id: Annotated[OrgId | None, Query()] = None,
    teacher_id: uuid.UUID | None = None,
    cursor: Cursor | None = None,
    limit: Annotated[int, Query(ge=1, le=MAX_LIMIT)] = 50,
) -> Page[CertificationRead]:
    return await queries.list_certifications(
        db,
        actor=user,
        project_id=project_id,
        status=status,
        item_kind=item_kind,
        school_id=school_id,
        teacher_id=teacher_id,
        cursor=cursor,
        limit=limit,
    )


@router.get(
    "/certifications/{certification_id}",
    response_model=CertificationDetail,
    summary="认证材料 one certification with its attempts and assessments",
)
async def get_certification(
    certification_id: uuid.UUID, db: Reads, user: CurrentUser
) -> CertificationDetail:
    return await queries.get_certification(db, actor=user, certification_id=certification_id)


@router.post(
    "/certifications/{certification_id}/assessment",
    operation_id="assessCertification",
    openapi_extra=audited("certification.assess"),
    response_model=CertificationRead,
    summary="校本应用考核 pass, or send back with comments (school admin)",
)
async def assess(
    certification_id: uuid.UUID, body: AssessmentIn, session: Session, user: CurrentUser
) -> CertificationRead:
    return await service.assess(session, actor=user, certification_id=certification_id, body=body)
