"""Thin routes: 教师信息: teacher records, their personal data, history and transfers."""

from __future__ import annotations

import uuid
from typing import Annotated, Literal

from fastapi import APIRouter, Query, Request
from fastapi.responses import JSONResponse

from enrollment.deps import EventOutbox, Pii
from enrollment.teachers import queries, service, transfers
from enrollment.teachers.lookup import TeacherCards, TeacherLookup, lookup_teachers
from enrollment.teachers.schemas import (
    TeacherChangeRead,
    TeacherCreate,
    TeacherRead,
    TeacherStatus,
    TeacherTransfer,
    TeacherUpdate,
)
from yanxiu.contracts.enrollment import Stage
from yanxiu.kit.audit_api import audited
from yanxiu.kit.deps import CurrentUser, Reads, Session, recording_session, runtime
from yanxiu.kit.idempotency import IdempotencyKey, once
from yanxiu.kit.openapi import operation_id
from yanxiu.kit.pagination import MAX_LIMIT, Page

router = APIRouter(tags=["teachers"], generate_unique_id_function=operation_id)
Limit = Annotated[int, Query(ge=1, le=MAX_LIMIT)]
Cursor = Annotated[str | None, Query(max_length=200)]
OrgId = Annotated[str | None, Query(max_length=40)]


@router.post(
    "/teachers",
    openapi_extra=audited("teacher.create"),
    response_model=TeacherRead,
    status_code=201,
    summary="教师信息采集",
)
async def create_teacher(
    body: TeacherCreate,
    request: Request,
    session: Session,
    user: CurrentUser,
    pii: Pii,
    outbox: EventOutbox,
    idempotency_key: IdempotencyKey = None,
) -> JSONResponse:
    async def run() -> TeacherRead:
        teacher = await service.create_teacher(session, pii, actor=user, data=body, outbox=outbox)
        return service.read_teacher(teacher, pii)

    return await once(
        session,
        runtime(request).spec.table("idempotency_keys"),
        key=idempotency_key,
        actor=user.user_id,
        operation=f"POST {request.url.path}",
        request=service.fingerprint_view(body, pii),
        run=run,
    )


@router.get("/teachers", response_model=Page[TeacherRead], summary="教师列表 (masked)")
async def list_teachers(
    db: Reads,
    user: CurrentUser,
    pii: Pii,
    school_id: OrgId = None,
    county_id: OrgId = None,
    city_id: OrgId = None,
    status: TeacherStatus | None = None,
    stage: Stage | None = None,
    subject: Annotated[str | None, Query(max_length=40)] = None,
    verified: bool | None = None,
    name: Annotated[str | None, Query(max_length=50, description="name prefix")] = None,
    id_number: Annotated[str | None, Query(min_length=15, max_length=40)] = None,
    cursor: Cursor = None,
    limit: Limit = 100,
) -> Page[TeacherRead]:
    return await queries.list_teachers(
        db,
        pii,
        actor=user,
        school_id=school_id,
        county_id=county_id,
        city_id=city_id,
        status=status,
        stage=stage,
        subject=subject,
        verified=verified,
        name_prefix=name,
        id_number=id_number,
        cursor=cursor,
        limit=limit,
    )


@router.post(
    "/teachers/lookup",
    operation_id="lookupTeachers",
    openapi_extra=audited("teacher.reveal_id_number"),
    response_model=TeacherCards,
    summary="教师批量查询 (for exports)",
)
async def lookup(
    body: TeacherLookup, session: Session, user: CurrentUser, pii: Pii
) -> TeacherCards:
    return await lookup_teachers(session, pii, actor=user, data=body)


@router.get(
    "/teachers/departed",
    operation_id="findDepartedTeachers",
    response_model=Page[TeacherRead],
    summary="离职教师库 find by ID number",
)
async def find_departed(
    db: Reads,
    user: CurrentUser,
    pii: Pii,
    id_number: Annotated[str, Query(min_length=15, max_length=40)],
) -> Page[TeacherRead]:
    return await queries.find_departed(db, pii, actor=user, id_number=id_number)


@router.get(
    "/teachers/{teacher_id}",
    openapi_extra=audited("teacher.reveal_id_number"),
    response_model=TeacherRead,
)
async def get_teacher(
    teacher_id: uuid.UUID,
    request: Request,
    db: Reads,
    user: CurrentUser,
    pii: Pii,
    reveal: Annotated[
        Literal["id_number"] | None,
        Query(description="id_number: the full ID number (school and county admins; logged)"),
    ] = None,
) -> TeacherRead:
    if reveal is None:
        return await queries.show_teacher(db, pii, actor=user, teacher_id=teacher_id)
    async with recording_session(request) as session:
        return await service.show_teacher(
            session, pii, actor=user, teacher_id=teacher_id, reveal_id_number=True
        )


@router.patch(
    "/teachers/{teacher_id}",
    openapi_extra=audited("teacher.update"),
    response_model=TeacherRead,
    summary="修正/补充",
)
async def update_teacher(
    teacher_id: uuid.UUID,
    body: TeacherUpdate,
    session: Session,
    user: CurrentUser,
    pii: Pii,
    outbox: EventOutbox,
) -> TeacherRead:
    teacher = await service.update_teacher(
        session, pii, actor=user, teacher_id=teacher_id, data=body, outbox=outbox
    )
    return service.read_teacher(teacher, pii)


@router.post(
    "/teachers/{teacher_id}/verify",
    openapi_extra=audited("teacher.verify"),
    response_model=TeacherRead,
    summary="核实",
)
async def verify_teacher(
    teacher_id: uuid.UUID, session: Session, user: CurrentUser, pii: Pii, outbox: EventOutbox
) -> TeacherRead:
    teacher = await service.verify_teacher(
        session, pii, actor=user, teacher_id=teacher_id, outbox=outbox
    )
    return service.read_teacher(teacher, pii)


@router.get(
    "/teachers/{teacher_id}/history", response_model=Page[TeacherChangeRead], summary="变更记录"
)
async def teacher_history(
    teacher_id: uuid.UUID,
    db: Reads,
    user: CurrentUser,
    cursor: Cursor = None,
    limit: Limit = 100,
) -> Page[TeacherChangeRead]:
    return await queries.teacher_history(
        db, actor=user, teacher_id=teacher_id, cursor=cursor, limit=limit
    )


@router.post(
    "/teachers/{teacher_id}/transfer",
    openapi_extra=audited("teacher.transfer"),
    response_model=TeacherRead,
    summary="调动",
)
async def transfer_teacher(
    teacher_id: uuid.UUID,
    body: TeacherTransfer,
    request: Request,
    session: Session,
    user: CurrentUser,
    pii: Pii,
    outbox: EventOutbox,
    idempotency_key: IdempotencyKey = None,
) -> JSONResponse:
    async def run() -> TeacherRead:
        teacher = await transfers.transfer(
            session,
            pii,
            actor=user,
            teacher_id=teacher_id,
            to_school_id=body.to_school_id,
            outbox=outbox,
        )
        return service.read_teacher(teacher, pii)

    return await once(
        session,
        runtime(request).spec.table("idempotency_keys"),
        key=idempotency_key,
        actor=user.user_id,
        operation=f"POST {request.url.path}",
        request=body,
        run=run,
        status=200,
    )


@router.post(
    "/teachers/{teacher_id}/depart",
    openapi_extra=audited("teacher.depart"),
    response_model=TeacherRead,
    summary="离职",
)
async def depart_teacher(
    teacher_id: uuid.UUID,
    request: Request,
    session: Session,
    user: CurrentUser,
    pii: Pii,
    outbox: EventOutbox,
    idempotency_key: IdempotencyKey = None,
) -> JSONResponse:
    async def run() -> TeacherRead:
        teacher = await transfers.depart(session, actor=user, teacher_id=teacher_id, outbox=outbox)
        return service.read_teacher(teacher, pii)

    return await once(
        session,
        runtime(request).spec.table("idempotency_keys"),
        key=idempotency_key,
        actor=user.user_id,
        operation=f"POST {request.url.path}",
        request={},
        run=run,
        status=200,
    )
