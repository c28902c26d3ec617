"""继续教育证书 use cases: issue once the year is complete, revoke when it no longer is."""

from __future__ import annotations

import base64
import secrets
import uuid
from collections.abc import Sequence
from datetime import UTC, datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from credits.certificates.errors import CertificateNotFound, YearIncomplete
from credits.certificates.models import Certificate
from credits.ledger.service import year_status
from yanxiu.contracts.envelope import OrgPath
from yanxiu.kit.auth import Principal, Role

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
    return cert, True


def can_read(who: Principal, cert: Certificate) -> bool:
    if who.role == Role.teacher:
        return who.teacher_id is not None and str(cert.teacher_id) == who.teacher_id
    return who.is_admin and who.covers(cert.org_path())


async def by_code(session: AsyncSession, code: str) -> Certificate:
    stmt = select(Certificate).where(Certificate.code == code)
    cert = (await session.execute(stmt)).scalar_one_or_none()
    if cert is None:
        raise CertificateNotFound()
    return cert


async def visible_by_code(session: AsyncSession, *, who: Principal, code: str) -> Certificate:
    cert = await by_code(session, code)
    if not can_read(who, cert):
        raise CertificateNotFound()
    return cert


async def page(
    session: AsyncSession,
    *,
    who: Principal,
    teacher_id: uuid.UUID | None,
    year: int | None,
    after: uuid.UUID | None,
    limit: int,
) -> Sequence[Certificate]:
    stmt = select(Certificate)
    if who.role == Role.teacher:
        if who.teacher_id is None:
            return []
        stmt = stmt.where(Certificate.teacher_id == uuid.UUID(who.teacher_id))
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
    return (await session.execute(stmt)).scalars().all()


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
