"""Thin routes: 培训项目与报名: yearly projects and the registration cascade."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Query, Request
from fastapi.responses import JSONResponse

from enrollment.registration import repository as repo
from enrollment.registration import service
from enrollment.registration.schemas import (
    ProjectCreate,
    ProjectRead,
    RegistrationCreate,
    RegistrationRead,
)
from yanxiu.kit.deps import CurrentUser, Session, runtime
from yanxiu.kit.idempotency import IdempotencyKey, once

router = APIRouter()


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
