"""Routes of records (线下学时): thin, the rules live in service.py."""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable
from typing import Annotated

from fastapi import APIRouter, Query, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel, RootModel

from credits.records import repository as repo
from credits.records import rules, service
from credits.records.models import OfflineRecord
from credits.records.schemas import (
    BatchIn,
    CorrectionIn,
    DecisionIn,
    HistoryOut,
    RecordDetail,
    RecordIn,
    RecordOut,
)
from yanxiu.kit.audit_api import audited
from yanxiu.kit.auth import Principal
from yanxiu.kit.bounds import Cursor, OrgId, Year
from yanxiu.kit.deps import CurrentUser, Reads, Session, runtime
from yanxiu.kit.idempotency import IdempotencyKey, once
from yanxiu.kit.openapi import operation_id
from yanxiu.kit.pagination import MAX_LIMIT, Page, decode_uuid_cursor, next_cursor

router = APIRouter(prefix="/records", tags=["records"], generate_unique_id_function=operation_id)


def _out(record: OfflineRecord) -> RecordOut:
    out = RecordOut.model_validate(record)
    out.status_zh = rules.STATUS_ZH.get(record.status, record.status)
    return out


@router.post("", openapi_extra=audited("record.submit"), response_model=RecordOut, status_code=201)
async def create_record(
    body: RecordIn,
    request: Request,
    session: Session,
    who: CurrentUser,
    idempotency_key: IdempotencyKey = None,
) -> JSONResponse:
    """录入学时. An institution's system that retries with the same Idempotency-Key gets the
    first answer back, and the hours are entered once."""

    async def run() -> RecordOut:
        [record] = await service.create_records(session, who=who, items=[body])
        return _out(record)

    return await _once(request, session, who, idempotency_key, body, run)


@router.post(
    "/batch",
    operation_id="createRecordBatch",
    openapi_extra=audited("record.submit"),
    response_model=list[RecordOut],
    status_code=201,
)
async def create_batch(
    body: BatchIn,
    request: Request,
    session: Session,
    who: CurrentUser,
    idempotency_key: IdempotencyKey = None,
) -> JSONResponse:
    async def run() -> RootModel[list[RecordOut]]:
        records = await service.create_records(session, who=who, items=body.records)
        return RootModel[list[RecordOut]]([_out(r) for r in records])

    return await _once(request, session, who, idempotency_key, body, run)


async def _once(
    request: Request,
    session: Session,
    who: Principal,
    key: str | None,
    body: BaseModel,
    run: Callable[[], Awaitable[BaseModel]],
) -> JSONResponse:
    return await once(
        session,
        runtime(request).spec.table("idempotency_keys"),
        key=key,
        actor=who.user_id,
        operation=f"POST {request.url.path}",
        request=body,
        run=run,
    )


@router.get("")
async def list_records(
    db: Reads,
    who: CurrentUser,
    teacher_id: uuid.UUID | None = None,
    status: Annotated[
        str | None, Query(max_length=20, pattern="^(" + "|".join(rules.STATUSES) + ")$")
    ] = None,
    org_id: OrgId | None = None,
    year: Year | None = None,
    cursor: Cursor | None = None,
    limit: Annotated[int, Query(ge=1, le=MAX_LIMIT)] = 50,
) -> Page[RecordOut]:
    scope, institution, teacher_id = service.listing_scope(who, teacher_id)
    rows = await repo.page(
        db,
        scope=scope,
        institution=institution,
        teacher_id=teacher_id,
        status=status,
        org_id=org_id,
        year=year,
        after=decode_uuid_cursor(cursor),
        limit=limit,
    )
    return Page(
        items=[_out(r) for r in rows[:limit]],
        next_cursor=next_cursor([str(r.id) for r in rows], limit),
    )


@router.get("/{record_id}")
async def get_record(record_id: uuid.UUID, db: Reads, who: CurrentUser) -> RecordDetail:
    record = await service.get_visible(db, who=who, record_id=record_id)
    detail = RecordDetail(**_out(record).model_dump())
    detail.history = [HistoryOut.model_validate(h) for h in await repo.history(db, record.id)]
    return detail


@router.get("/{record_id}/history", operation_id="getRecordHistory")
async def get_history(record_id: uuid.UUID, db: Reads, who: CurrentUser) -> list[HistoryOut]:
    record = await service.get_visible(db, who=who, record_id=record_id)
    return [HistoryOut.model_validate(h) for h in await repo.history(db, record.id)]


@router.post(
    "/{record_id}/review", operation_id="reviewRecord", openapi_extra=audited("record.review")
)
async def review(
    record_id: uuid.UUID, body: DecisionIn, session: Session, who: CurrentUser
) -> RecordOut:
    return _out(await service.review(session, who=who, record_id=record_id, body=body))


@router.post(
    "/{record_id}/approval", operation_id="approveRecord", openapi_extra=audited("record.approve")
)
async def approval(
    record_id: uuid.UUID, body: DecisionIn, session: Session, who: CurrentUser
) -> RecordOut:
    return _out(await service.approve(session, who=who, record_id=record_id, body=body))


@router.patch("/{record_id}", operation_id="correctRecord", openapi_extra=audited("record.correct"))
async def correct(
    record_id: uuid.UUID, body: CorrectionIn, session: Session, who: CurrentUser
) -> RecordOut:
    return _out(await service.correct(session, who=who, record_id=record_id, body=body))


@router.post(
    "/{record_id}/resubmit", operation_id="resubmitRecord", openapi_extra=audited("record.resubmit")
)
async def resubmit(record_id: uuid.UUID, session: Session, who: CurrentUser) -> RecordOut:
    return _out(await service.resubmit(session, who=who, record_id=record_id))
