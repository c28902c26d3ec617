"""Routes of certificates: issue, list, PDF download, and the public verification page."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Path, Query, Request, Response

from credits.certificates import pdf, service
from credits.certificates.categories import category_lines
from credits.certificates.models import Certificate
from credits.certificates.schemas import CategoryHoursOut, CertificateOut, IssueIn, VerifyOut
from credits.config import DEFAULT_PUBLIC_BASE_URL
from yanxiu.kit.audit_api import audited
from yanxiu.kit.auth import Role
from yanxiu.kit.bounds import Cursor, Year
from yanxiu.kit.deps import CurrentUser, Reads, Session, runtime
from yanxiu.kit.errors import Forbidden
from yanxiu.kit.openapi import PDF, file_response, operation_id
from yanxiu.kit.pagination import MAX_LIMIT, Page, decode_uuid_cursor, next_cursor

router = APIRouter(
    prefix="/certificates", tags=["certificates"], generate_unique_id_function=operation_id
)
# Codes are 32 base32 characters or fewer (service.new_code); anything longer is no code.
Code = Annotated[str, Path(max_length=64)]


def mask_name(name: str) -> str:
    """张三 → 张*, 欧阳娜娜 → 欧**娜: the surname stays so a holder recognises it."""
    if len(name) <= 2:
        return name[:1] + "*" * (len(name) - 1)
    return name[0] + "*" * (len(name) - 2) + name[-1]


def _public_base(request: Request) -> str:
    """Links handed out use the configured public address (CREDITS_PUBLIC_BASE_URL), never
    the host and port this process happens to be reached on."""
    base = getattr(runtime(request).settings, "public_base_url", "") or DEFAULT_PUBLIC_BASE_URL
    return str(base).rstrip("/")


def verify_url(request: Request, code: str) -> str:
    return f"{_public_base(request)}/certificates/verify/{code}"


def categories(cert: Certificate) -> list[CategoryHoursOut]:
    """The counted hours by category with the region's Chinese names (as on the PDF)."""
    return [
        CategoryHoursOut(code=line.code, category_name=line.category_name, hours=str(line.hours))
        for line in category_lines(cert.region, cert.hours_by_category)
    ]


def _out(request: Request, cert: Certificate) -> CertificateOut:
    out = CertificateOut.model_validate(cert)
    out.categories = categories(cert)
    out.pdf_url = f"{_public_base(request)}/certificates/{cert.code}.pdf"
    out.verify_url = verify_url(request, cert.code)
    return out


@router.post(
    "", operation_id="issueCertificate", openapi_extra=audited("certificate.issue"), status_code=201
)
async def issue(
    body: IssueIn, request: Request, response: Response, session: Session, who: CurrentUser
) -> CertificateOut:
    cert, created = await service.request_certificate(
        session, who=who, teacher_id=body.teacher_id, year=body.year
    )
    if not created:
        response.status_code = 200
    return _out(request, cert)


@router.get("")
async def list_certificates(
    request: Request,
    db: Reads,
    who: CurrentUser,
    teacher_id: uuid.UUID | None = None,
    year: Year | None = None,
    cursor: Cursor | None = None,
    limit: Annotated[int, Query(ge=1, le=MAX_LIMIT)] = 50,
) -> Page[CertificateOut]:
    if who.role != Role.teacher and not who.is_admin:
        raise Forbidden()
    rows = await service.page(
        db,
        who=who,
        teacher_id=teacher_id,
        year=year,
        after=decode_uuid_cursor(cursor),
        limit=limit,
    )
    return Page(
        items=[_out(request, c) for c in rows[:limit]],
        next_cursor=next_cursor([str(c.id) for c in rows], limit),
    )


@router.get("/verify/{code}", name="verify_certificate")
async def verify(code: Code, db: Reads) -> VerifyOut:
    """Public: no token. Anyone holding a code learns whether it is valid."""
    cert = await service.by_code(db, code)
    valid = cert.status == service.VALID
    return VerifyOut(
        code=cert.code,
        valid=valid,
        status_zh="有效" if valid else "已作废",
        masked_name=mask_name(cert.teacher_name),
        year=cert.year,
        hours_by_category=cert.hours_by_category,
        categories=categories(cert),
        total_hours=cert.total_hours,
        issued_at=cert.issued_at,
        revoked_at=cert.revoked_at,
        revoke_reason=cert.revoke_reason,
    )


@router.get(
    "/{code}.pdf",
    name="certificate_pdf",
    summary="证书下载 the certificate as PDF",
    response_class=Response,
    responses=file_response(PDF, "证书 (PDF)"),
)
async def certificate_pdf(code: Code, request: Request, db: Reads, who: CurrentUser) -> Response:
    # Renders a certificate issued before: it reads one row and records nothing.
    cert = await service.visible_by_code(db, who=who, code=code)
    body = pdf.render(cert, verify_url=verify_url(request, cert.code))
    return Response(
        body,
        media_type="application/pdf",
        headers={"Content-Disposition": f'inline; filename="certificate-{cert.year}.pdf"'},
    )
