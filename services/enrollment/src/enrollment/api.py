"""Thin routes of the enrollment service."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Query, Request
from fastapi.responses import JSONResponse

from enrollment import repository as repo
from enrollment import service
from enrollment.deps import Pii
from enrollment.schemas import (
    OrgRead,
    ProjectCreate,
    ProjectRead,
    RegistrationCreate,
    RegistrationRead,
    TeacherCreate,
    TeacherRead,
)
from yanxiu.kit.deps import CurrentUser, Session, runtime
from yanxiu.kit.idempotency import IdempotencyKey, once

router = APIRouter()


@router.get("/orgs", response_model=list[OrgRead], tags=["orgs"], summary="组织机构 children")
async def list_orgs(
    session: Session,
    user: CurrentUser,
    parent_id: Annotated[str | None, Query(max_length=40)] = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
) -> list[OrgRead]:
    rows = await service.list_orgs(session, actor=user, parent_id=parent_id, limit=limit)
    return [OrgRead.model_validate(o) for o in rows]


@router.post("/teachers", response_model=TeacherRead, status_code=201, tags=["teachers"])
async def create_teacher(
    body: TeacherCreate, session: Session, user: CurrentUser, pii: Pii
) -> TeacherRead:
    teacher = await service.create_teacher(session, pii, actor=user, data=body)
    return service.read_teacher(teacher, pii)


@router.get("/teachers/{teacher_id}", response_model=TeacherRead, tags=["teachers"])
async def get_teacher(
    teacher_id: uuid.UUID, session: Session, user: CurrentUser, pii: Pii
) -> TeacherRead:
    return service.read_teacher(
        await service.get_teacher(session, actor=user, teacher_id=teacher_id), pii
    )


@router.post("/projects", response_model=ProjectRead, status_code=201, tags=["projects"])
async def open_project(
    body: ProjectCreate, request: Request, session: Session, user: CurrentUser
) -> ProjectRead:
    return ProjectRead.model_validate(
        await service.open_project(session, runtime(request).outbox, actor=user, data=body)
    )


@router.get("/projects", response_model=list[ProjectRead], tags=["projects"])
async def list_projects(
    session: Session, user: CurrentUser, limit: Annotated[int, Query(ge=1, le=200)] = 50
) -> list[ProjectRead]:
    return [ProjectRead.model_validate(p) for p in await repo.list_projects(session, limit=limit)]


@router.post(
    "/projects/{project_id}/registrations",
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
