"""Thin routes: 培训项目与报名: yearly projects and the registration cascade."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Query, Request, Response
from fastapi.responses import JSONResponse

from enrollment.registration import service
from enrollment.registration.schemas import (
    ProjectCreate,
    ProjectRead,
    RegistrationCreate,
    RegistrationListItem,
    RegistrationRead,
    SubmissionRead,
    UnitRead,
    UnitsOpen,
)
from yanxiu.kit.audit_api import audited
from yanxiu.kit.deps import CurrentUser, Reads, Session, runtime
from yanxiu.kit.idempotency import IdempotencyKey, once
from yanxiu.kit.openapi import operation_id
from yanxiu.kit.pagination import MAX_LIMIT, Page

router = APIRouter(generate_unique_id_function=operation_id)
Cursor = Annotated[str | None, Query(max_length=200)]
Limit = Annotated[int, Query(ge=1, le=MAX_LIMIT)]
OrgFilter = Annotated[str | None, Query(max_length=40)]


@router.post(
    "/projects",
    openapi_extra=audited("project.open"),
    response_model=ProjectRead,
    status_code=201,
    tags=["projects"],
)
async def open_project(
    body: ProjectCreate, request: Request, session: Session, user: CurrentUser
) -> ProjectRead:
    return ProjectRead.model_validate(
        await service.open_project(session, runtime(request).outbox, actor=user, data=body)
    )


@router.get("/projects", response_model=list[ProjectRead], tags=["projects"])
async def list_projects(
    db: Reads, user: CurrentUser, limit: Annotated[int, Query(ge=1, le=200)] = 50
) -> list[ProjectRead]:
    projects = await service.list_projects(db, actor=user, limit=limit)
    return [ProjectRead.model_validate(p) for p in projects]


@router.post(
    "/projects/{project_id}/counties",
    openapi_extra=audited("project.open_counties"),
    response_model=list[UnitRead],
    tags=["registrations"],
    summary="开放参训区域 the city opens counties",
)
async def open_counties(
    project_id: uuid.UUID, body: UnitsOpen, session: Session, user: CurrentUser
) -> list[UnitRead]:
    units = await service.open_counties(
        session, actor=user, project_id=project_id, org_ids=body.org_ids
    )
    return [UnitRead.model_validate(u) for u in units]


@router.get(
    "/projects/{project_id}/counties",
    response_model=Page[UnitRead],
    tags=["registrations"],
    summary="参训区域 opened counties",
)
async def list_counties(
    project_id: uuid.UUID,
    session: Session,
    user: CurrentUser,
    city_id: OrgFilter = None,
    cursor: Cursor = None,
    limit: Limit = 100,
) -> Page[UnitRead]:
    return await service.list_units(
        session,
        actor=user,
        project_id=project_id,
        level="county",
        city_id=city_id,
        county_id=None,
        cursor=cursor,
        limit=limit,
    )


@router.post(
    "/projects/{project_id}/schools",
    openapi_extra=audited("project.open_schools"),
    response_model=list[UnitRead],
    tags=["registrations"],
    summary="开放参训单位 the county opens schools",
)
async def open_schools(
    project_id: uuid.UUID, body: UnitsOpen, session: Session, user: CurrentUser
) -> list[UnitRead]:
    units = await service.open_schools(
        session, actor=user, project_id=project_id, org_ids=body.org_ids
    )
    return [UnitRead.model_validate(u) for u in units]


@router.get(
    "/projects/{project_id}/schools",
    response_model=Page[UnitRead],
    tags=["registrations"],
    summary="参训单位 opened schools",
)
async def list_schools(
    project_id: uuid.UUID,
    session: Session,
    user: CurrentUser,
    city_id: OrgFilter = None,
    county_id: OrgFilter = None,
    cursor: Cursor = None,
    limit: Limit = 100,
) -> Page[UnitRead]:
    return await service.list_units(
        session,
        actor=user,
        project_id=project_id,
        level="school",
        city_id=city_id,
        county_id=county_id,
        cursor=cursor,
        limit=limit,
    )


@router.post(
    "/projects/{project_id}/registrations",
    operation_id="registerTeacher",
    openapi_extra=audited("registration.register"),
    response_model=RegistrationRead,
    status_code=201,
    tags=["registrations"],
    summary="项目报名 register a teacher",
)
async def register(
    project_id: uuid.UUID,
    body: RegistrationCreate,
    request: Request,
    session: Session,
    user: CurrentUser,
    idempotency_key: IdempotencyKey = None,
) -> JSONResponse:
    rt = runtime(request)

    async def run() -> RegistrationRead:
        return RegistrationRead.model_validate(
            await service.register_teacher(
                session, rt.outbox, actor=user, project_id=project_id, data=body
            )
        )

    return await once(
        session,
        rt.spec.table("idempotency_keys"),
        key=idempotency_key,
        actor=user.user_id,
        operation=f"POST {request.url.path}",
        request=body,
        run=run,
    )


@router.get(
    "/projects/{project_id}/registrations",
    response_model=Page[RegistrationListItem],
    tags=["registrations"],
    summary="报名名单 registrations, by cursor",
)
async def list_registrations(
    project_id: uuid.UUID,
    db: Reads,
    user: CurrentUser,
    city_id: OrgFilter = None,
    county_id: OrgFilter = None,
    school_id: OrgFilter = None,
    subject: Annotated[str | None, Query(max_length=40)] = None,
    cursor: Cursor = None,
    limit: Limit = 100,
) -> Page[RegistrationListItem]:
    return await service.list_registrations(
        db,
        actor=user,
        project_id=project_id,
        city_id=city_id,
        county_id=county_id,
        school_id=school_id,
        subject=subject,
        cursor=cursor,
        limit=limit,
    )


@router.delete(
    "/projects/{project_id}/registrations/{registration_id}",
    operation_id="withdrawRegistration",
    openapi_extra=audited("registration.withdraw"),
    status_code=204,
    tags=["registrations"],
    summary="撤销报名 withdraw a registration",
)
async def withdraw(
    project_id: uuid.UUID,
    registration_id: uuid.UUID,
    request: Request,
    session: Session,
    user: CurrentUser,
) -> Response:
    await service.withdraw(
        session,
        runtime(request).outbox,
        actor=user,
        project_id=project_id,
        registration_id=registration_id,
    )
    return Response(status_code=204)


@router.post(
    "/projects/{project_id}/submissions",
    operation_id="submitUnit",
    openapi_extra=audited("project.submit"),
    response_model=SubmissionRead,
    status_code=201,
    tags=["registrations"],
    summary="提交培训报名管理任务 submit your county or city",
)
async def submit(
    project_id: uuid.UUID, request: Request, session: Session, user: CurrentUser
) -> SubmissionRead:
    return SubmissionRead.model_validate(
        await service.submit(session, runtime(request).outbox, actor=user, project_id=project_id)
    )


@router.get(
    "/projects/{project_id}/submissions",
    response_model=Page[SubmissionRead],
    tags=["registrations"],
    summary="已提交单位 submitted units",
)
async def list_submissions(
    project_id: uuid.UUID,
    session: Session,
    user: CurrentUser,
    cursor: Cursor = None,
    limit: Limit = 100,
) -> Page[SubmissionRead]:
    return await service.list_submissions(
        session, actor=user, project_id=project_id, cursor=cursor, limit=limit
    )
