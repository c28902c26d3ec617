"""教师信息批量导入与导出. Use cases; nothing commits here.

Import is all or nothing: every row is validated first, any error rejects the whole file with a
per-row, per-column report; a clean file is written with a few set-based statements (teachers,
their history rows) in the request's one transaction."""

from __future__ import annotations

import asyncio
import io
import json
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from enrollment import audit, catalog
from enrollment.errors import OrgNotFound, ProjectNotFound
from enrollment.imports import parsing
from enrollment.imports import repository as repo
from enrollment.imports.errors import ImportRaced, ImportRejected
from enrollment.imports.validation import (
    RowError,
    SchoolResolver,
    TeacherRow,
    check_headers,
    check_row,
)
from enrollment.orgs import repository as org_repo
from enrollment.orgs.service import org_path
from enrollment.registration import repository as registration_repo
from enrollment.teachers.service import ID_CONTEXT, PHONE_CONTEXT
from yanxiu.contracts.enrollment import TeacherCreated
from yanxiu.contracts.envelope import OrgPath
from yanxiu.kit.auth import Principal, Role
from yanxiu.kit.context import current_trace_id
from yanxiu.kit.outbox import Outbox, OutboxColumns
from yanxiu.kit.pii import PiiCipher, mask_id_number, mask_phone
from yanxiu.kit.spreadsheet import safe_row

IMPORTERS = (Role.school_admin, Role.county_admin, Role.city_admin)
EXPORTERS = (Role.school_admin, Role.county_admin, Role.city_admin, Role.province_admin)
MAX_REPORTED_ERRORS = 1000
WRITE_CHUNK = 5_000
SHANGHAI = ZoneInfo("Asia/Shanghai")
_GENDER_ZH = {"male": "男", "female": "女"}


@dataclass(frozen=True)
class ImportResult:
    imported: int


def _reject(errors: list[RowError]) -> ImportRejected:
    errors.sort(key=lambda e: e.row)
    rows = len({e.row for e in errors})
    return ImportRejected(
        f"共 {rows} 行、{len(errors)} 处错误，未导入任何数据，请修改后重新上传",
        f"{len(errors)} errors in {rows} rows; nothing was imported",
        errors=[e.as_dict() for e in errors[:MAX_REPORTED_ERRORS]],
        error_count=len(errors),
        truncated=len(errors) > MAX_REPORTED_ERRORS,
    )


async def _school_resolver(
    session: AsyncSession, actor: Principal, sheet: parsing.Sheet
) -> SchoolResolver:
    col = sheet.columns[parsing.SCHOOL]
    values: set[str] = set()
    for _, cells in sheet.rows:
        value = cells[col] if col < len(cells) else None
        if value:
            values.add(value)
    schools = await repo.schools_matching(session, sorted(values)) if values else []
    return SchoolResolver(schools, {s.id for s in schools if actor.covers(org_path(s))})


async def validate(
    session: AsyncSession, pii: PiiCipher, *, actor: Principal, sheet: parsing.Sheet
) -> tuple[list[TeacherRow], list[str]]:
    """Every row checked; returns the rows and their blind indexes, or raises the full report."""
    errors = check_headers(sheet)
    if errors:
        raise _reject(errors)
    if not sheet.rows:
        raise _reject(
            [RowError(sheet.header_row + 1, parsing.NAME, None, "文件中没有教师数据", "No rows")]
        )
    schools = await _school_resolver(session, actor, sheet)
    # Seconds of CPU for a large file (every ID number checked and blind-indexed): in a worker
    # thread, so that the service keeps answering meanwhile.
    rows, indexes, row_errors = await asyncio.to_thread(_check_rows, pii, sheet, schools)
    errors.extend(row_errors)
    registered = await repo.existing_id_indexes(session, indexes)
    for row, index in zip(rows, indexes, strict=True):
        if index in registered:
            errors.append(
                RowError(
                    row.row,
                    parsing.ID_NUMBER,
                    mask_id_number(row.id_number.value),
                    "该身份证号已登记（全平台唯一）",
                    "This ID number is registered already",
                )
            )
    if errors:
        raise _reject(errors)
    return rows, indexes


def _check_rows(
    pii: PiiCipher, sheet: parsing.Sheet, schools: SchoolResolver
) -> tuple[list[TeacherRow], list[str], list[RowError]]:
    """The rows' own rules and duplicates within the file (pure: no I/O)."""
    rows: list[TeacherRow] = []
    indexes: list[str] = []
    errors: list[RowError] = []
    first_seen: dict[str, int] = {}
    for number, cells in sheet.rows:
        row, row_errors = check_row(number, cells, sheet.columns, schools)
        errors.extend(row_errors)
        if row is None:
            continue
        index = pii.blind_index(row.id_number.value, context=ID_CONTEXT)
        if index in first_seen:
            errors.append(
                RowError(
                    number,
                    parsing.ID_NUMBER,
                    row.id_number.value,
                    f"与第{first_seen[index]}行的身份证号重复",
                    f"Same ID number as row {first_seen[index]}",
                )
            )
            continue
        first_seen[index] = number
        rows.append(row)
        indexes.append(index)
    return rows, indexes, errors


async def import_teachers(
    session: AsyncSession,
    pii: PiiCipher,
    outbox: Outbox,
    *,
    actor: Principal,
    content: bytes,
    filename: str = "",
) -> ImportResult:
    """教师信息批量导入: an admin imports a spreadsheet of teachers of schools in its scope.

    Once every row is valid, chunks are written in order; each chunk's ciphertexts, history
    and event payloads are computed in a worker thread while the previous chunk's statements
    run in the database."""
    actor.ensure_role(*IMPORTERS)
    # Parsing is CPU work of seconds for a large file (and bounded by imports.limits): off the
    # event loop, so that the service keeps answering (its /healthz too) meanwhile.
    sheet = await asyncio.to_thread(parsing.read_sheet, content, filename=filename)
    rows, indexes = await validate(session, pii, actor=actor, sheet=sheet)
    now = datetime.now(UTC)
    trace = current_trace_id()

    def prepare(start: int) -> _Batch:
        end = start + WRITE_CHUNK
        return _prepare(pii, outbox, rows[start:end], indexes[start:end], now=now, trace=trace)

    starts = list(range(0, len(rows), WRITE_CHUNK))
    batch = await asyncio.to_thread(prepare, 0)
    for nxt in [*starts[1:], None]:
        following = (
            asyncio.ensure_future(asyncio.to_thread(prepare, nxt)) if nxt is not None else None
        )
        try:
            await _write(session, outbox, actor, batch)
        except BaseException:
            if following is not None:
                await asyncio.gather(following, return_exceptions=True)
            raise
        if following is not None:
            batch = await following
    audit.imported(session, actor=actor, schools=(r.school for r in rows), filename=filename)
    return ImportResult(imported=len(rows))


@dataclass(frozen=True)
class _Batch:
    teachers: dict[str, list[Any]]
    history: list[str]
    events: OutboxColumns


def _prepare(
    pii: PiiCipher,
    outbox: Outbox,
    rows: list[TeacherRow],
    indexes: list[str],
    *,
    now: datetime,
    trace: str,
) -> _Batch:
    """The column arrays of one chunk: encrypted personal data, history, event payloads."""
    ids = [uuid.uuid4() for _ in rows]
    teachers: dict[str, list[Any]] = {
        "id": ids,
        "name": [r.name for r in rows],
        "idc": [pii.encrypt(r.id_number.value, context=ID_CONTEXT) for r in rows],
        "idx": indexes,
        "gender": [r.id_number.gender for r in rows],
        "born": [r.id_number.birth_date for r in rows],
        "phc": [pii.encrypt(r.phone, context=PHONE_CONTEXT) if r.phone else None for r in rows],
        "phx": [pii.blind_index(r.phone, context=PHONE_CONTEXT) if r.phone else None for r in rows],
        "stage": [r.stage for r in rows],
        "subject": [r.subject for r in rows],
        "rural": [r.is_rural for r in rows],
        "prov": [r.school.province_id for r in rows],
        "city": [r.school.city_id for r in rows],
        "county": [r.school.county_id for r in rows],
        "school": [r.school.id for r in rows],
    }
    return _Batch(
        teachers=teachers,
        history=[_history(r) for r in rows],
        events=_events(outbox, ids=ids, rows=rows, now=now, trace=trace),
    )


async def _write(session: AsyncSession, outbox: Outbox, actor: Principal, batch: _Batch) -> None:
    try:
        await repo.insert_teachers(session, batch.teachers)
    except IntegrityError as exc:  # a concurrent import or create won the race
        raise ImportRaced() from exc
    await repo.insert_changes(
        session,
        teacher_ids=batch.teachers["id"],
        after=batch.history,
        action="import",
        actor=actor.user_id,
        role=actor.role.value,
        actor_name=actor.name or None,
    )
    await outbox.write(session, batch.events)


def _history(row: TeacherRow) -> str:
    """The record as the history shows it: personal data masked."""
    return json.dumps(
        {
            "name": row.name,
            "id_number": mask_id_number(row.id_number.value),
            "gender": row.id_number.gender,
            "phone": mask_phone(row.phone) if row.phone else None,
            "stage": row.stage,
            "subject": row.subject,
            "is_rural": row.is_rural,
            "status": "active",
            "verified": False,
            "school_id": row.school.id,
            "county_id": row.school.county_id,
            "city_id": row.school.city_id,
            "source_row": row.row,
        },
        ensure_ascii=False,
    )


def _events(
    outbox: Outbox, *, ids: list[uuid.UUID], rows: list[TeacherRow], now: datetime, trace: str
) -> OutboxColumns:
    """One `enrollment.teacher_created` per imported teacher, as outbox columns."""
    events = [
        TeacherCreated(
            teacher_id=teacher_id,
            teacher_name=row.name,
            gender=row.id_number.gender,
            stage=row.stage,
            subject=row.subject,
            is_rural=row.is_rural,
            status="active",
            verified=False,
            org=OrgPath(
                province_id=row.school.province_id,
                city_id=row.school.city_id,
                county_id=row.school.county_id,
                school_id=row.school.id,
            ),
            created_at=now,
        )
        for teacher_id, row in zip(ids, rows, strict=True)
    ]
    cols, _ = outbox.columns(list(events), trace_id=trace, occurred_at=now)
    return cols


# -- export ---------------------------------------------------------------------------------

TEACHER_HEADERS = [
    parsing.NAME,
    parsing.ID_NUMBER,
    parsing.GENDER,
    parsing.BIRTH_DATE,
    parsing.SCHOOL,
    "学校编号",
    parsing.STAGE,
    parsing.SUBJECT,
    parsing.RURAL,
    parsing.PHONE,
    "状态",
]
REGISTRATION_HEADERS = ["学校编号", parsing.SCHOOL, "教师姓名", parsing.SUBJECT, "报名时间"]


async def _unit_path(session: AsyncSession, actor: Principal, org_id: str | None) -> list[str]:
    """The unit to export: the caller's own, or one inside its scope (404 otherwise)."""
    if org_id is None:
        return list(actor.org_path)
    org = await org_repo.get_org(session, org_id)
    if org is None or not actor.covers(org_path(org)):
        raise OrgNotFound()
    return org_path(org)


def _workbook(title: str, headers: Sequence[str]) -> tuple[Any, Any]:
    from openpyxl import Workbook  # type: ignore[import-untyped]

    book = Workbook(write_only=True)
    sheet = book.create_sheet(title)
    sheet.append(list(headers))
    return book, sheet


def _save(book: Any) -> bytes:
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


async def export_teachers(
    session: AsyncSession, pii: PiiCipher, *, actor: Principal, org_id: str | None = None
) -> bytes:
    """教师信息导出: a unit's teachers as XLSX with the import's headers. ID numbers and phone
    numbers are always masked (no role may see them in full in an export yet)."""
    actor.ensure_role(*EXPORTERS)
    path = await _unit_path(session, actor, org_id)
    stages = catalog.stages()
    book, sheet = _workbook("教师信息", TEACHER_HEADERS)
    async for teacher, school_name in repo.teachers_under(session, path):
        phone = (
            pii.decrypt(teacher.phone_cipher, context=PHONE_CONTEXT)
            if teacher.phone_cipher
            else None
        )
        sheet.append(
            safe_row(
                [
                    teacher.name,
                    mask_id_number(pii.decrypt(teacher.id_number_cipher, context=ID_CONTEXT)),
                    _GENDER_ZH.get(teacher.gender, teacher.gender),
                    teacher.birth_date.isoformat(),
                    school_name,
                    teacher.school_id,
                    stages.get(teacher.stage, teacher.stage),
                    teacher.subject,
                    "是" if teacher.is_rural else "否",
                    mask_phone(phone) if phone else None,
                    "在职" if teacher.status == "active" else "离职",
                ]
            )
        )
    return _save(book)


async def export_registrations(
    session: AsyncSession, *, actor: Principal, project_id: uuid.UUID, org_id: str | None = None
) -> bytes:
    """报名名单导出: a project's registrations in the caller's unit as XLSX."""
    actor.ensure_role(*EXPORTERS)
    if await registration_repo.get_project(session, project_id) is None:
        raise ProjectNotFound()
    path = await _unit_path(session, actor, org_id)
    book, sheet = _workbook("报名名单", REGISTRATION_HEADERS)
    async for school_id, school_name, teacher_name, subject, at in repo.registrations_under(
        session, project_id=project_id, path=path
    ):
        sheet.append(
            safe_row(
                [
                    school_id,
                    school_name,
                    teacher_name,
                    subject,
                    at.astimezone(SHANGHAI).strftime("%Y-%m-%d %H:%M:%S"),
                ]
            )
        )
    return _save(book)


def export_name(kind: str) -> str:
    return f"{kind}-{datetime.now(SHANGHAI):%Y%m%d%H%M}.xlsx"
