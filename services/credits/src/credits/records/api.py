"""Routes of records (线下学时): thin, the rules live in service.py."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Query

from credits.records import repository as repo
from credits.records import rules, service
from credits.records.errors import RecordNotFound
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
from yanxiu.kit.auth import Role
from yanxiu.kit.deps import CurrentUser, Session
from yanxiu.kit.pagination import MAX_LIMIT, Page, decode_uuid_cursor, next_cursor

router = APIRouter(prefix="/records", tags=["records"])


def _out(record: OfflineRecord) -> RecordOut:
    out = RecordOut.model_validate(record)
    out.status_zh = rules.STATUS_ZH.get(record.status, record.status)
    return out


@router.post("", status_code=201)
async def create_record(body: RecordIn, session: Session, who: CurrentUser) -> RecordOut:
    [record] = await service.create_records(session, who=who, items=[body])
    return _out(record)


@router.post("/batch", status_code=201)
async def create_batch(body: BatchIn, session: Session, who: CurrentUser) -> list[RecordOut]:
    records = await service.create_records(session, who=who, items=body.records)
    return [_out(r) for r in records]


@router.get("")
async def list_records(
    session: Session,
    who: CurrentUser,
    teacher_id: uuid.UUID | None = None,
    status: Annotated[str | None, Query(pattern="^(" + "|".join(rules.STATUSES) + ")$")] = None,
    org_id: str | None = None,
    year: int | None = None,
    cursor: str | None = None,
    limit: Annotated[int, Query(ge=1, le=MAX_LIMIT)] = 50,
) -> Page[RecordOut]:
    scope: tuple[str, ...] = who.org_path
    if who.role == Role.teacher:
        # A teacher sees only their own records, whatever they ask for.
        if who.teacher_id is None or (teacher_id and str(teacher_id) != who.teacher_id):
            raise RecordNotFound()
        teacher_id, scope = uuid.UUID(who.teacher_id), ()
    elif not who.org_path:
        raise RecordNotFound()
    rows = await repo.page(
        session,
        scope=scope,
        institution=who.user_id if who.role == Role.training_institution else None,
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
async def get_record(record_id: uuid.UUID, session: Session, who: CurrentUser) -> RecordDetail:
    record = await service.get_visible(session, who=who, record_id=record_id)
    detail = RecordDetail(**_out(record).model_dump())
    detail.history = [HistoryOut.model_validate(h) for h in await repo.history(session, record.id)]
    return detail


@router.get("/{record_id}/history")
async def get_history(record_id: uuid.UUID, session: Session, who: CurrentUser) -> list[HistoryOut]:
    record = await service.get_visible(session, who=who, record_id=record_id)
    return [HistoryOut.model_validate(h) for h in await repo.history(session, record.id)]


@router.post("/{record_id}/review")
async def review(
    record_id: uuid.UUID, body: DecisionIn, session: Session, who: CurrentUser
) -> RecordOut:
    return _out(await service.review(session, who=who, record_id=record_id, body=body))


@router.post("/{record_id}/approval")
async def approval(
    record_id: uuid.UUID, body: DecisionIn, session: Session, who: CurrentUser
) -> RecordOut:
    return _out(await service.approve(session, who=who, record_id=record_id, body=body))


@router.patch("/{record_id}")
async def correct(
    record_id: uuid.UUID, body: CorrectionIn, session: Session, who: CurrentUser
) -> RecordOut:
    return _out(await service.correct(session, who=who, record_id=record_id, body=body))


@router.post("/{record_id}/resubmit")
async def resubmit(record_id: uuid.UUID, session: Session, who: CurrentUser) -> RecordOut:
    return _out(await service.resubmit(session, who=who, record_id=record_id))
