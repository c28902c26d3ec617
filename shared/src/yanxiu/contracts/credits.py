"""Events produced by the credits service (学分登记, topic `credits.events.v1`, key: teacher id).

Each is a snapshot of one thing as it stands after a change, so a re-sent one
(`yanxiu resync --from credits`) is harmless. Hours are decimals (JSON strings)."""

from __future__ import annotations

import uuid
from datetime import datetime
from decimal import Decimal
from typing import ClassVar, Literal

from yanxiu.contracts.envelope import Event, OrgPath

CREDITS_TOPIC = "credits.events.v1"
RecordStatus = Literal["submitted", "county_passed", "approved", "county_rejected", "city_rejected"]


class CreditsEvent(Event):
    TOPIC: ClassVar[str] = CREDITS_TOPIC
    KEY_FIELD: ClassVar[str] = "teacher_id"


# type: credits.year_tallied  v1   key: teacher_id
# A teacher's registered credit hours (学分登记) for a year as they stand after a ledger change:
# the counted total and whether the year's requirement is complete (年度学时达标).
class YearTallied(CreditsEvent):
    TYPE: ClassVar[str] = "credits.year_tallied"

    teacher_id: uuid.UUID
    year: int
    total_hours: Decimal
    complete: bool
    org: OrgPath
    tallied_at: datetime


# type: credits.certificate_issued  v1   key: teacher_id
# A continuing-education certificate (继续教育证书) was issued for a teacher's year.
class CertificateIssued(CreditsEvent):
    TYPE: ClassVar[str] = "credits.certificate_issued"

    certificate_id: uuid.UUID
    teacher_id: uuid.UUID
    year: int
    org: OrgPath
    issued_at: datetime


# type: credits.certificate_revoked  v1   key: teacher_id
# A certificate no longer stands (the year is no longer complete, or an admin revoked it).
class CertificateRevoked(CreditsEvent):
    TYPE: ClassVar[str] = "credits.certificate_revoked"

    certificate_id: uuid.UUID
    teacher_id: uuid.UUID
    year: int
    reason: str
    org: OrgPath
    revoked_at: datetime


# type: credits.offline_record_changed  v1   key: teacher_id
# An offline training record (线下培训学时) as it stands after a step of its approval: submitted
# (待初审, waits for the county), county_passed (待审批, waits for the city), approved, or
# returned by the county or the city. `org` is the teacher's place on the record.
class OfflineRecordChanged(CreditsEvent):
    TYPE: ClassVar[str] = "credits.offline_record_changed"

    record_id: uuid.UUID
    teacher_id: uuid.UUID
    year: int
    status: RecordStatus
    category: str
    hours: Decimal
    org: OrgPath
    changed_at: datetime


EVENTS: list[type[Event]] = [
    YearTallied,
    CertificateIssued,
    CertificateRevoked,
    OfflineRecordChanged,
]
