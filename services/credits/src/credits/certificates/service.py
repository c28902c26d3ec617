"""继续教育证书 use cases: issue once the year is complete, revoke when it no longer is.

Who asks for one: the teacher for themself, or an admin for a teacher whose place (as credits
stores it from enrollment's events) lies in its subtree. The name and org printed on it come
from that same stored record, never from the request; a teacher credits does not know, or one
outside the admin's subtree, is 404 (nothing about them, their hours included, is told)."""

from __future__ import annotations

import base64
import secrets
import uuid
from datetime import UTC, datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from credits.audit import AUDIT
from credits.certificates.errors import (
    CertificateNotFound,
    TeacherDetailsRequired,
    YearIncomplete,
)
from credits.certificates.models import Certificate
from credits.events import CREDITS_OUTBOX, certificate_issued, certificate_revoked
from credits.ledger import repository as ledger_repo
from credits.ledger.errors import TeacherUnknown
from credits.ledger.models import Teacher
from credits.ledger.service import year_status
from yanxiu.contracts.envelope import OrgPath
from yanxiu.kit.auth import Principal, Role
from yanxiu.kit.errors import Forbidden
from yanxiu.kit.reads import Reader
from yanxiu.kit.scope import may_read_teacher_record, own_teacher_id

VALID = "valid"
REVOKED = "revoked"
# 160 random bits in base32 without padding: unguessable and easy to read aloud.
CODE_BYTES = 20


def new_code() -> str:
    return base64.b32encode(secrets.token_bytes(CODE_BYTES)).decode().rstrip("=")


async def _valid_for(session: AsyncSession, teacher_id: uuid.UUID, year: int) -> Certificate | None:
    stmt = select(Certificate).where(
        Certificate.teacher_id == teacher_id,
        Certificate.year == year,
        Certificate.status == VALID,
    )
    return (await session.execute(stmt.with_for_update())).scalar_one_or_none()


async def certificate_holder(
    session: AsyncSession, *, who: Principal, teacher_id: uuid.UUID | None
) -> Teacher:
    """The teacher a certificate is asked for, as credits knows them, if the caller may ask."""
    if who.role == Role.teacher:
        me = own_teacher_id(who)
        if me is None or (teacher_id is not None and teacher_id != me):
            raise Forbidden("教师只能打印本人的证书", "A teacher prints only their own certificate")
        teacher_id = me
    elif not who.is_admin:
        raise Forbidden()
    elif teacher_id is None:
        raise TeacherDetailsRequired()
    known = await ledger_repo.teacher(session, teacher_id)
    if known is None or not may_read_teacher_record(
        who, teacher_id=teacher_id, org_path=known.org_path
    ):
        raise TeacherUnknown()
    return known


async def request_certificate(
    session: AsyncSession, *, who: Principal, teacher_id: uuid.UUID | None, year: int
) -> tuple[Certificate, bool]:
    """打印证书: the valid certificate of the teacher's year (issued now if complete)."""
    holder = await certificate_holder(session, who=who, teacher_id=teacher_id)
    province_id, city_id, county_id, school_id = holder.org_path
    return await issue(
        session,
        who=who,
        teacher_id=holder.teacher_id,
        teacher_name=holder.name,
        org=OrgPath(
            province_id=province_id, city_id=city_id, county_id=county_id, school_id=school_id
        ),
        year=year,
    )


async def issue(
    session: AsyncSession,
    *,
    who: Principal,
    teacher_id: uuid.UUID,
    teacher_name: str,
    org: OrgPath,
    year: int,
) -> tuple[Certificate, bool]:
    """The valid certificate of (teacher, year), issuing it if the year is complete.
    Returns (certificate, created)."""
    existing = await _valid_for(session, teacher_id, year)
    if existing is not None:
        return existing, False
    status = await year_status(session, teacher_id=teacher_id, year=year)
    if not status.complete:
        raise YearIncomplete(
            f"{year} 年已计入 {status.counted_total} 学时，需 {status.required_total} 学时",
            f"{year}: {status.counted_total} of {status.required_total} hours counted",
        )
    cert = Certificate(
        id=uuid.uuid4(),
        code=new_code(),
        teacher_id=teacher_id,
        teacher_name=teacher_name,
        province_id=org.province_id,
        city_id=org.city_id,
        county_id=org.county_id,
        school_id=org.school_id,
        year=year,
        region=status.region,
        hours_by_category={k: str(v) for k, v in status.counted_by_category.items()},
        total_hours=str(status.counted_total),
        status=VALID,
        issued_at=datetime.now(UTC),
    )
    session.add(cert)
    await session.flush()
    await CREDITS_OUTBOX.add(session, certificate_issued(cert))
    # The verification code stays out: it is the certificate's public proof, not a change.
    await AUDIT.record(
        session,
        actor=who,
        action="certificate.issue",
        target_type="certificate",
        target_id=str(cert.id),
        target_org=cert.org_path(),
        after={
            "teacher_id": cert.teacher_id,
            "year": cert.year,
            "region": cert.region,
            "total_hours": cert.total_hours,
        },
    )
    return cert, True


def can_read(who: Principal, cert: Certificate) -> bool:
    """The holder, and the admins covering the org the certificate was issued at."""
    return may_read_teacher_record(who, teacher_id=cert.teacher_id, org_path=cert.org_path())


async def by_code(reader: Reader, code: str) -> Certificate:
    cert = await reader.one(Certificate, select(Certificate).where(Certificate.code == code))
    if cert is None:
        raise CertificateNotFound()
    return cert


async def visible_by_code(reader: Reader, *, who: Principal, code: str) -> Certificate:
    cert = await by_code(reader, code)
    if not can_read(who, cert):
        raise CertificateNotFound()
    return cert


async def page(
    reader: Reader,
    *,
    who: Principal,
    teacher_id: uuid.UUID | None,
    year: int | None,
    after: uuid.UUID | None,
    limit: int,
) -> list[Certificate]:
    stmt = select(Certificate)
    if who.role == Role.teacher:
        me = own_teacher_id(who)
        if me is None:
            return []
        stmt = stmt.where(Certificate.teacher_id == me)
    else:
        columns = (
            Certificate.province_id,
            Certificate.city_id,
            Certificate.county_id,
            Certificate.school_id,
        )
        for column, value in zip(columns, who.org_path, strict=False):
            stmt = stmt.where(column == value)
    if teacher_id is not None:
        stmt = stmt.where(Certificate.teacher_id == teacher_id)
    if year is not None:
        stmt = stmt.where(Certificate.year == year)
    if after is not None:
        stmt = stmt.where(Certificate.id > after)
    stmt = stmt.order_by(Certificate.id).limit(limit + 1)
    return await reader.all(Certificate, stmt)


async def recheck(session: AsyncSession, *, teacher_id: uuid.UUID, year: int) -> None:
    """Called by the ledger after a reversal or revocation touching (teacher, year): a
    certificate whose year is no longer complete is invalidated (作废), with the reason."""
    cert = await _valid_for(session, teacher_id, year)
    if cert is None:
        return
    status = await year_status(session, teacher_id=teacher_id, year=year)
    if status.complete:
        return
    cert.status = REVOKED
    cert.revoked_at = datetime.now(UTC)
    cert.revoke_reason = (
        f"学时被冲销，{year} 年度计入学时 {status.counted_total}，"
        f"未达到 {status.required_total} 学时"
    )
    await session.flush()
    await CREDITS_OUTBOX.add(session, certificate_revoked(cert))
