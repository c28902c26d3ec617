"""What an admin reads of a reconciliation (核对报告) and of a repair (修复), with Chinese and
English labels beside every code."""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from datetime import datetime

from pydantic import BaseModel

from enrollment.reconcile.compare import DriftKind
from yanxiu.kit.roster import RosterEntry


class Place(BaseModel):
    """Where a side holds the teacher, and in what status."""

    province_id: str
    city_id: str
    county_id: str
    school_id: str
    status: str

    @classmethod
    def of(cls, entry: RosterEntry | None) -> Place | None:
        if entry is None:
            return None
        return cls(
            province_id=entry.province_id,
            city_id=entry.city_id,
            county_id=entry.county_id,
            school_id=entry.school_id,
            status=entry.status,
        )


class DriftRead(BaseModel):
    service: str
    service_zh: str
    kind: str
    kind_zh: str
    kind_en: str
    expected: Place | None
    """Where enrollment says the teacher belongs (None: enrollment has no such member)."""
    found: Place | None
    """Where the service holds the teacher (None: it does not)."""


class TeacherDriftRead(BaseModel):
    teacher_id: uuid.UUID
    drifts: list[DriftRead]


class DriftCounts(BaseModel):
    missing: int = 0
    extra: int = 0
    wrong_org: int = 0
    wrong_status: int = 0
    total: int = 0

    @classmethod
    def of(cls, kinds: Mapping[DriftKind, int]) -> DriftCounts:
        return cls(**{k.value: n for k, n in kinds.items()}, total=sum(kinds.values()))


class ServiceSummary(BaseModel):
    service: str
    label_zh: str
    label_en: str
    expected: int
    """Members enrollment says the service should hold in the scope."""
    found: int
    """Members the service holds in the scope (withdrawn rows are not members)."""
    in_sync: bool
    differing_buckets: int
    """Teacher-id buckets whose digests differ (only those are read row by row)."""
    drift: DriftCounts | None
    """Counted on the first page only (no cursor)."""


class OrgDrift(BaseModel):
    """One org one level below the caller's (a city for the province, a county for a city, a
    school for a county) and one service: how many of its teachers drifted, and how."""

    org_id: str
    org_name: str
    level: str
    service: str
    service_zh: str
    counts: DriftCounts


class ReconciliationRead(BaseModel):
    project_id: uuid.UUID
    scope: list[str]
    checked_at: datetime
    in_sync: bool
    summary_zh: str
    summary_en: str
    services: list[ServiceSummary]
    orgs: list[OrgDrift]
    """First page only: per org and service."""
    items: list[TeacherDriftRead]
    """Drifted teachers in teacher-id order, a page at a time."""
    next_cursor: str | None = None


class Resent(BaseModel):
    teacher_updated: int = 0
    teacher_registered: int = 0
    teacher_withdrawn: int = 0


class RepairRead(BaseModel):
    project_id: uuid.UUID
    scope: list[str]
    teachers: int
    """Drifted teachers whose facts were re-sent."""
    unrepairable: int
    """Drifted teachers enrollment has nothing to re-send for (a teacher it does not know)."""
    resent: Resent
    drift: dict[str, DriftCounts]
    """What was found, per service, before the repair."""
    more: bool
    """More drifted teachers remain than one request repairs: call again."""
    message_zh: str
    message_en: str
