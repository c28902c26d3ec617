"""变更记录 and events: every change to a teacher record writes a history row (personal data
masked) and, where others care, an event through the outbox in the same transaction."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from enrollment.audit import AUDIT
from enrollment.models import Teacher, TeacherChange, machinery
from enrollment.teachers import repository as repo
from yanxiu.contracts.enrollment import (
    TeacherCreated,
    TeacherDeparted,
    TeacherTransferred,
    TeacherUpdated,
)
from yanxiu.contracts.envelope import OrgPath
from yanxiu.kit.auth import Principal
from yanxiu.kit.outbox import Outbox
from yanxiu.kit.pii import PiiCipher, mask_id_number, mask_phone

# History actions named otherwise in the audit trail: a take-in from the departed pool is a
# transfer there (its before/after status shows where the teacher came from).
_AUDIT_ACTIONS = {"take_in": "transfer"}

ID_CONTEXT = "teacher.id_number"
PHONE_CONTEXT = "teacher.phone"

# The same table and producer the running service's outbox uses; a default for callers (the
# demo loader, imports) that hold no request runtime.
ENROLLMENT_OUTBOX = Outbox(machinery["outbox"], producer="enrollment")


def snapshot(teacher: Teacher, pii: PiiCipher) -> dict[str, Any]:
    """The record as history shows it: ID number and phone masked."""
    phone = (
        pii.decrypt(teacher.phone_cipher, context=PHONE_CONTEXT) if teacher.phone_cipher else None
    )
    return {
        "name": teacher.name,
        "id_number": mask_id_number(pii.decrypt(teacher.id_number_cipher, context=ID_CONTEXT)),
        "gender": teacher.gender,
        "phone": mask_phone(phone) if phone else None,
        "stage": teacher.stage,
        "subject": teacher.subject,
        "is_rural": teacher.is_rural,
        "status": teacher.status,
        "verified": teacher.verified,
        "school_id": teacher.school_id,
        "county_id": teacher.county_id,
        "city_id": teacher.city_id,
    }


async def record(
    session: AsyncSession,
    teacher: Teacher,
    *,
    actor: Principal,
    action: str,
    before: dict[str, Any] | None,
    after: dict[str, Any] | None,
) -> None:
    await repo.add_change(
        session,
        TeacherChange(
            teacher_id=teacher.id,
            action=action,
            changed_by=actor.user_id,
            changed_by_role=actor.role.value,
            changed_by_name=actor.name or None,
            before=before,
            after=after,
        ),
    )
    # The same change in the audit trail, listed under the teacher's org (the history is
    # per record; the trail is what a county or the province reviews across records).
    await AUDIT.record(
        session,
        actor=actor,
        action=f"teacher.{_AUDIT_ACTIONS.get(action, action)}",
        target_type="teacher",
        target_id=str(teacher.id),
        target_org=teacher.org_path,
        before=before,
        after=after,
    )


def org_of(teacher: Teacher) -> OrgPath:
    return OrgPath(
        province_id=teacher.province_id,
        city_id=teacher.city_id,
        county_id=teacher.county_id,
        school_id=teacher.school_id,
    )


def _now() -> datetime:
    return datetime.now(UTC)


def created(teacher: Teacher) -> TeacherCreated:
    return TeacherCreated(
        teacher_id=teacher.id,
        teacher_name=teacher.name,
        gender=teacher.gender,
        stage=teacher.stage,
        subject=teacher.subject,
        is_rural=teacher.is_rural,
        status=teacher.status,
        verified=teacher.verified,
        org=org_of(teacher),
        created_at=_now(),
    )


def updated(teacher: Teacher, changed_fields: list[str]) -> TeacherUpdated:
    return TeacherUpdated(
        teacher_id=teacher.id,
        teacher_name=teacher.name,
        changed_fields=changed_fields,
        stage=teacher.stage,
        subject=teacher.subject,
        is_rural=teacher.is_rural,
        status=teacher.status,
        verified=teacher.verified,
        org=org_of(teacher),
        updated_at=_now(),
    )


def transferred(teacher: Teacher, *, from_org: OrgPath, from_pool: bool) -> TeacherTransferred:
    return TeacherTransferred(
        teacher_id=teacher.id,
        from_org=from_org,
        to_org=org_of(teacher),
        org=org_of(teacher),
        from_departed_pool=from_pool,
        stage=teacher.stage,
        subject=teacher.subject,
        transferred_at=_now(),
    )


def departed(teacher: Teacher) -> TeacherDeparted:
    return TeacherDeparted(
        teacher_id=teacher.id,
        org=org_of(teacher),
        stage=teacher.stage,
        subject=teacher.subject,
        departed_at=_now(),
    )
