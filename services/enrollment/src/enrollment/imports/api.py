"""Thin routes: 教师信息批量导入与导出."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Coroutine
from typing import Annotated, Any

from fastapi import APIRouter, File, Query, Request, UploadFile
from fastapi.responses import Response
from fastapi.routing import APIRoute

from enrollment.deps import EventOutbox, Pii
from enrollment.imports import limits, service
from enrollment.imports.schemas import ImportRead
from yanxiu.kit.audit_api import audited
from yanxiu.kit.deps import CurrentUser, Session, TransactionSession
from yanxiu.kit.openapi import XLSX, file_response, operation_id

OrgFilter = Annotated[str | None, Query(max_length=40, description="单位 (defaults to yours)")]
# The multipart envelope around the file: boundaries, part headers, the file's name.
ENVELOPE_BYTES = 64 * 1024


class UploadRoute(APIRoute):
    """Refuses a body larger than a file may be before FastAPI parses the form (by its
    Content-Length, or as it streams in) rather than after spooling all of it to disk."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()

        async def limited(request: Request) -> Response:
            declared = request.headers.get("content-length", "")
            if declared.isdigit():
                limits.ensure_upload_size(int(declared) - ENVELOPE_BYTES)
            chunks, size = [], 0
            async for chunk in request.stream():
                size += len(chunk)
                limits.ensure_upload_size(size - ENVELOPE_BYTES)
                chunks.append(chunk)
            request._body = b"".join(chunks)  # what FastAPI's form parser then reads
            return await handler(request)

        return limited


router = APIRouter(route_class=UploadRoute, generate_unique_id_function=operation_id)


async def _read_limited(file: UploadFile) -> bytes:
    content = await file.read(limits.MAX_BYTES + 1)
    limits.ensure_upload_size(len(content))
    return content


def _xlsx(content: bytes, name: str) -> Response:
    return Response(
        content,
        media_type=XLSX,
        headers={"Content-Disposition": f'attachment; filename="{name}"'},
    )


@router.post(
    "/teachers/import",
    openapi_extra=audited("teacher.import"),
    response_model=ImportRead,
    status_code=201,
    tags=["teachers"],
    summary="教师信息批量导入 import teachers from XLSX or CSV (all or nothing)",
)
async def import_teachers(
    session: Session,
    user: CurrentUser,
    pii: Pii,
    outbox: EventOutbox,
    file: Annotated[
        UploadFile,
        File(
            description="XLSX or CSV (UTF-8 or GBK), ≤ 20 MB",
            json_schema_extra={"format": "binary"},  # what client generators read as a file
        ),
    ],
) -> ImportRead:
    result = await service.import_teachers(
        session,
        pii,
        outbox,
        actor=user,
        content=await _read_limited(file),
        filename=file.filename or "",
    )
    return ImportRead(imported=result.imported)


@router.get(
    "/teachers/export.xlsx",
    tags=["teachers"],
    summary="教师信息导出 a unit's teachers as XLSX (ID numbers masked)",
    response_class=Response,
    responses=file_response(XLSX, "教师信息 (XLSX workbook)"),
)
async def export_teachers(
    session: TransactionSession, user: CurrentUser, pii: Pii, org_id: OrgFilter = None
) -> Response:
    content = await service.export_teachers(session, pii, actor=user, org_id=org_id)
    return _xlsx(content, service.export_name("teachers"))


@router.get(
    "/projects/{project_id}/registrations/export.xlsx",
    tags=["registrations"],
    summary="报名名单导出 a project's registrations in the caller's unit as XLSX",
    response_class=Response,
    responses=file_response(XLSX, "报名名单 (XLSX workbook)"),
)
async def export_registrations(
    project_id: uuid.UUID,
    request: Request,
    session: TransactionSession,
    user: CurrentUser,
    org_id: OrgFilter = None,
) -> Response:
    content = await service.export_registrations(
        session, actor=user, project_id=project_id, org_id=org_id
    )
    return _xlsx(content, service.export_name("registrations"))
