"""Routes of the ledger (学分台账) and its reports."""

from __future__ import annotations

import uuid
from decimal import Decimal
from typing import Annotated, Literal

from fastapi import APIRouter, Query, Response

from credits.ledger import reports, service
from credits.ledger import repository as repo
from credits.ledger.errors import TeacherUnknown
from credits.ledger.models import Teacher
from credits.ledger.regions import regions
from credits.ledger.schemas import (
    BalanceRead,
    EntryRead,
    ReversalCreate,
    TotalsRead,
    TranscriptRead,
)
from yanxiu.kit.audit_api import audited
from yanxiu.kit.auth import Principal
from yanxiu.kit.bounds import Cursor, Day, OrgId, Year
from yanxiu.kit.deps import CurrentUser, Reads, Session
from yanxiu.kit.openapi import XLSX, file_response, operation_id
from yanxiu.kit.pagination import Page, decode_cursor, encode_cursor
from yanxiu.kit.reads import Reader
from yanxiu.kit.scope import admin_covers, is_self

router = APIRouter(tags=["ledger"], generate_unique_id_function=operation_id)


async def _may_see(reader: Reader, actor: Principal, teacher_id: uuid.UUID) -> None:
    """The teacher sees their own ledger; an admin those of teachers whose stored place (the
    teacher read model) lies in its subtree; anyone else 404, hours and all."""
    if not is_self(actor, teacher_id):
        await _seen_teacher(reader, actor, teacher_id)


async def _seen_teacher(reader: Reader, actor: Principal, teacher_id: uuid.UUID) -> Teacher | None:
    """As `_may_see`, for a read that needs the teacher's record anyway (its name, its
    region): read once, for the check and the answer."""
    known = await repo.teacher(reader, teacher_id)
    if not is_self(actor, teacher_id) and (
        known is None or not admin_covers(actor, known.org_path)
    ):
        raise TeacherUnknown()
    return known


@router.get(
    "/ledger/{teacher_id}",
    operation_id="listLedgerEntries",
    response_model=Page[EntryRead],
    summary="学分台账 entries",
)
async def entries(
    teacher_id: uuid.UUID,
    db: Reads,
    user: CurrentUser,
    year: Year | None = None,
    cursor: Cursor | None = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
) -> Page[EntryRead]:
    await _may_see(db, user, teacher_id)
    after = service.decode_entry_cursor(decode_cursor(cursor))
    rows = await repo.entries(db, teacher_id=teacher_id, year=year, after=after, limit=limit + 1)
    nxt = (
        encode_cursor(f"{rows[limit - 1].recorded_at.isoformat()}|{rows[limit - 1].id}")
        if len(rows) > limit
        else None
    )
    return Page(items=[EntryRead.model_validate(r) for r in rows[:limit]], next_cursor=nxt)


@router.get(
    "/ledger/{teacher_id}/balance",
    operation_id="getCreditBalance",
    response_model=BalanceRead,
    summary="学分余额 balance by category, year and cycle, optionally as of a past date",
)
async def balance(
    teacher_id: uuid.UUID,
    year: Year,
    db: Reads,
    user: CurrentUser,
    as_of: Day | None = None,
) -> BalanceRead:
    known = await _seen_teacher(db, user, teacher_id)
    # Every year at once (a teacher's ledger spans a few years): the year asked and the cycle
    # its region puts it in come from the same two statements.
    statuses = await service.statuses_of(
        db, teacher_id=teacher_id, known=known, as_of=as_of, ensure=[year]
    )
    status = statuses[year]
    region = regions()[status.region]
    start, end = region.cycle_of(year)
    cycle_total = sum(
        (s.counted_total for y, s in statuses.items() if start <= y <= end), Decimal(0)
    )
    return BalanceRead(
        teacher_id=teacher_id,
        year=year,
        region=region.code,
        as_of=as_of.isoformat() if as_of else None,
        categories=reports.categories_of(status),
        counted_total=status.counted_total,
        required_total=status.required_total,
        complete=status.complete,
        cycle=f"{start}-{end}",
        cycle_counted_total=service.as_hours(cycle_total),
        cycle_required=service.as_hours(region.cycle_required),
    )


@router.get(
    "/ledger/{teacher_id}/transcript",
    response_model=TranscriptRead,
    summary="学时证明 a teacher's transcript",
)
async def transcript(teacher_id: uuid.UUID, db: Reads, user: CurrentUser) -> TranscriptRead:
    known = await _seen_teacher(db, user, teacher_id)
    return await reports.transcript(db, teacher_id=teacher_id, known=known)


@router.post(
    "/ledger/{teacher_id}/reversals",
    operation_id="reverseLedgerEntry",
    openapi_extra=audited("ledger.reverse"),
    response_model=EntryRead,
    status_code=201,
    summary="冲正 reverse an entry, with a reason (county admin or above)",
)
async def reverse(
    teacher_id: uuid.UUID, body: ReversalCreate, session: Session, user: CurrentUser
) -> EntryRead:
    entry = await service.reverse_by_admin(
        session, actor=user, teacher_id=teacher_id, entry_id=body.entry_id, reason=body.reason
    )
    return EntryRead.model_validate(entry)


@router.get(
    "/reports/totals",
    operation_id="getCreditTotals",
    response_model=TotalsRead,
    summary="学分统计 totals and completion",
)
async def totals(
    level: Literal["city", "county", "school"],
    parent: OrgId,
    year: Year,
    db: Reads,
    user: CurrentUser,
) -> TotalsRead:
    return await reports.org_totals(db, actor=user, level=level, parent=parent, year=year)


@router.get(
    "/reports/totals.xlsx",
    operation_id="exportCreditTotals",
    summary="学分统计导出 totals as XLSX",
    response_class=Response,
    responses=file_response(XLSX, "学分统计表 (XLSX workbook)"),
)
async def totals_xlsx(
    level: Literal["city", "county", "school"],
    parent: OrgId,
    year: Year,
    db: Reads,
    user: CurrentUser,
) -> Response:
    data = await reports.org_totals(db, actor=user, level=level, parent=parent, year=year)
    return Response(
        reports.totals_xlsx(data),
        media_type=XLSX,
        headers={"Content-Disposition": f'attachment; filename="credits-{year}-{parent}.xlsx"'},
    )
