"""Routes of certificates: issue, list, PDF download, and the public verification page."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Query, Request, Response

from credits.certificates import pdf, service
from credits.certificates.errors import TeacherDetailsRequired
from credits.certificates.models import Certificate
from credits.certificates.schemas import CertificateOut, IssueIn, VerifyOut
from yanxiu.contracts.envelope import OrgPath
from yanxiu.kit.auth import Role
from yanxiu.kit.deps import CurrentUser, Session
from yanxiu.kit.errors import Forbidden
from yanxiu.kit.pagination import MAX_LIMIT, Page, decode_uuid_cursor, next_cursor

router = APIRouter(prefix="/certificates", tags=["certificates"])


def mask_name(name: str) -> str:
    """张三 → 张*, 欧阳娜娜 → 欧**娜: the surname stays so a holder recognises it."""
    if len(name) <= 2:
        return name[:1] + "*" * (len(name) - 1)
    return name[0] + "*" * (len(name) - 2) + name[-1]


def _out(request: Request, cert: Certificate) -> CertificateOut:
    out = CertificateOut.model_validate(cert)
    out.pdf_url = str(request.url_for("certificate_pdf", code=cert.code))
    out.verify_url = str(request.url_for("verify_certificate", code=cert.code))
    return out


@router.post("", status_code=201)
async def issue(
    body: IssueIn, request: Request, response: Response, session: Session, who: CurrentUser
) -> CertificateOut:
    if who.role == Role.teacher:
        if who.teacher_id is None or (body.teacher_id and str(body.teacher_id) != who.teacher_id):
            raise Forbidden("教师只能打印本人的证书", "A teacher prints only their own certificate")
        if len(who.org_path) < 4:
            raise TeacherDetailsRequired()
        teacher_id = uuid.UUID(who.teacher_id)
        name = who.name
        org = OrgPath(
            province_id=who.org_path[0],
            city_id=who.org_path[1],
            county_id=who.org_path[2],
            school_id=who.org_path[3],
        )
    else:
        if not who.is_admin:
            raise Forbidden()
        if body.teacher_id is None or body.teacher_name is None or body.org is None:
            raise TeacherDetailsRequired()
        who.ensure_covers(body.org.as_list())
        teacher_id, name, org = body.teacher_id, body.teacher_name, body.org
    cert, created = await service.issue(
        session, who=who, teacher_id=teacher_id, teacher_name=name, org=org, year=body.year
    )
    if not created:
        response.status_code = 200
    return _out(request, cert)


@router.get("")
async def list_certificates(
    request: Request,
    session: Session,
    who: CurrentUser,
    teacher_id: uuid.UUID | None = None,
    year: int | None = None,
    cursor: str | None = None,
    limit: Annotated[int, Query(ge=1, le=MAX_LIMIT)] = 50,
) -> Page[CertificateOut]:
    if who.role != Role.teacher and not who.is_admin:
        raise Forbidden()
    rows = await service.page(
        session,
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
async def verify(code: str, session: Session) -> VerifyOut:
    """Public: no token. Anyone holding a code learns whether it is valid."""
    cert = await service.by_code(session, code)
    valid = cert.status == service.VALID
    return VerifyOut(
        code=cert.code,
        valid=valid,
        status_zh="有效" if valid else "已作废",
        masked_name=mask_name(cert.teacher_name),
        year=cert.year,
        hours_by_category=cert.hours_by_category,
        total_hours=cert.total_hours,
        issued_at=cert.issued_at,
        revoked_at=cert.revoked_at,
        revoke_reason=cert.revoke_reason,
    )


@router.get("/{code}.pdf", name="certificate_pdf")
async def certificate_pdf(
    code: str, request: Request, session: Session, who: CurrentUser
) -> Response:
    cert = await service.visible_by_code(session, who=who, code=code)
    verify_url = str(request.url_for("verify_certificate", code=cert.code))
    body = pdf.render(cert, verify_url=verify_url)
    return Response(
        body,
        media_type="application/pdf",
        headers={"Content-Disposition": f'inline; filename="certificate-{cert.year}.pdf"'},
    )
