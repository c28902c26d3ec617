"""Credits' outbox and the events it records for the dashboards (#18): each one a snapshot of a
teacher-year, a certificate or an offline record as it stands after a change (see
`yanxiu.contracts.credits`), written in the transaction of that change."""

from __future__ import annotations

import functools
import uuid
from collections.abc import Sequence
from datetime import datetime
from decimal import Decimal
from typing import TYPE_CHECKING, cast

from credits.models import machinery
from yanxiu.contracts.credits import (
    CertificateIssued,
    CertificateRevoked,
    OfflineRecordChanged,
    RecordStatus,
    YearTallied,
)
from yanxiu.contracts.envelope import OrgPath
from yanxiu.kit.outbox import Outbox

if TYPE_CHECKING:
    from credits.certificates.models import Certificate
    from credits.records.models import OfflineRecord

# The same table and producer as the running service's outbox (`Runtime.outbox`), for the
# consumers and services, which get no request runtime.
CREDITS_OUTBOX = Outbox(machinery["outbox"], producer="credits")

HOURS = Decimal("0.1")


def org_of(place: Sequence[str]) -> OrgPath:
    return _org(*place)


@functools.lru_cache(maxsize=4096)
def _org(province_id: str, city_id: str, county_id: str, school_id: str) -> OrgPath:
    # Frozen: one per school, shared by the events of a batch instead of built for each.
    return OrgPath(
        province_id=province_id, city_id=city_id, county_id=county_id, school_id=school_id
    )


def year_tallied(
    *,
    teacher_id: uuid.UUID,
    year: int,
    counted_hours: Decimal,
    complete: bool,
    place: Sequence[str],
    at: datetime,
) -> YearTallied:
    """A teacher-year (`teacher_years`) as it stands: counted hours and completeness, at the
    year's place (where credits' own org totals count it)."""
    return YearTallied(
        teacher_id=teacher_id,
        year=year,
        total_hours=Decimal(counted_hours).quantize(HOURS),
        complete=complete,
        org=org_of(place),
        tallied_at=at,
    )


def certificate_issued(cert: Certificate) -> CertificateIssued:
    return CertificateIssued(
        certificate_id=cert.id,
        teacher_id=cert.teacher_id,
        year=cert.year,
        org=org_of(cert.org_path()),
        issued_at=cert.issued_at,
    )


def certificate_revoked(cert: Certificate) -> CertificateRevoked:
    assert cert.revoked_at is not None
    return CertificateRevoked(
        certificate_id=cert.id,
        teacher_id=cert.teacher_id,
        year=cert.year,
        reason=cert.revoke_reason or "",
        org=org_of(cert.org_path()),
        revoked_at=cert.revoked_at,
    )


def record_changed(record: OfflineRecord, *, at: datetime | None = None) -> OfflineRecordChanged:
    """The record's status, category, hours and year (of the training) as they stand, at the
    record's place; changed `at` (a step now), else when it last changed (a resync)."""
    return OfflineRecordChanged(
        record_id=record.id,
        teacher_id=record.teacher_id,
        year=record.year,
        status=cast(RecordStatus, record.status),
        category=record.category,
        hours=record.hours,
        org=org_of(record.org_path()),
        changed_at=at or record.updated_at,
    )
