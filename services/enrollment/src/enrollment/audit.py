"""审计日志: enrollment's audit trail (yanxiu.kit.audit) over its own `audit_log` table.

Teacher records are audited where their history is written (`teachers.history.record`: each
change and each ID-number reveal); the other use cases record their own entries."""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy.ext.asyncio import AsyncSession

from enrollment.models import Org, machinery
from yanxiu.kit.audit import AuditTrail
from yanxiu.kit.auth import Principal

AUDIT = AuditTrail(machinery["audit_log"])


def imported(
    session: AsyncSession, *, actor: Principal, schools: Iterable[Org], filename: str
) -> None:
    """教师信息批量导入: one entry per school a file added teachers to, listed under that
    school (the teachers themselves are in their history; a file of 100,000 rows is not
    100,000 entries here)."""
    counts: dict[str, tuple[Org, int]] = {}
    for school in schools:
        counts[school.id] = (school, counts.get(school.id, (school, 0))[1] + 1)
    for school, count in counts.values():
        AUDIT.add(
            session,
            actor=actor,
            action="teacher.import",
            target_type="school",
            target_id=school.id,
            target_org=[p for p in (school.province_id, school.city_id, school.county_id) if p]
            + [school.id],
            after={"imported": count, "filename": filename[:200]},
        )
