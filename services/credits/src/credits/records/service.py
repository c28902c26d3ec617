"""线下学时审核 use cases: institution entry → county 初审 → city 审批 → one ledger entry.
Services never commit; every step writes a history row in the same transaction."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime, time
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from credits.audit import AUDIT
from credits.events import CREDITS_OUTBOX, record_changed
from credits.ledger.errors import TeacherUnknown
from credits.ledger.regions import region_for
from credits.ledger.repository import entry_by_source, teachers
from credits.ledger.service import EntryIn, post_entries
from credits.records import repository as repo
from credits.records import rules
from credits.records.errors import (
    BadDates,
    DaysExceedDates,
    DuplicateTraining,
    InvalidTransition,
    NoHours,
    NotCorrectable,
    ReasonRequired,
    RecordNotFound,
    UnknownCategory,
)
from credits.records.models import OfflineRecord, RecordHistory
from credits.records.schemas import CorrectionIn, DecisionIn, RecordIn
from yanxiu.contracts.envelope import OrgPath
from yanxiu.kit.auth import Principal, Role
from yanxiu.kit.errors import Forbidden
from yanxiu.kit.reads import Reader
from yanxiu.kit.scope import may_read_teacher_record, own_teacher_id

# Record history actions as the audit trail names them: a review or an approval is one action
# whichever way it was decided (the decision is in the entry).
_AUDIT_ACTIONS = {
    "submit": "record.submit",
    "review_pass": "record.review",
    "review_reject": "record.review",
    "approval_pass": "record.approve",
    "approval_reject": "record.approve",
    "correct": "record.correct",
    "resubmit": "record.resubmit",
}
AUDITED = ("training_name", "category", "start_date", "end_date", "half_days", "days", "hours")


def _snapshot(record: OfflineRecord) -> dict[str, Any]:
    data = {f: getattr(record, f) for f in AUDITED}
    data["status"] = record.status
    return {k: (str(v) if v is not None else None) for k, v in data.items()}


def _audit(
    session: AsyncSession,
    record: OfflineRecord,
    who: Principal,
    action: str,
    *,
    reason: str | None = None,
    before: dict[str, Any] | None = None,
) -> None:
    session.add(
        RecordHistory(
            record_id=record.id,
            actor_id=who.user_id,
            actor_role=who.role.value,
            action=action,
            reason=reason,
            before=before,
            after=_snapshot(record),
        )
    )
    AUDIT.add(
        session,
        actor=who,
        action=_AUDIT_ACTIONS.get(action, f"record.{action}"),
        target_type="offline_record",
        target_id=str(record.id),
        target_org=record.org_path(),
        before=before,
        after={**_snapshot(record), "teacher_id": str(record.teacher_id), "reason": reason},
    )


def _check_amount(start: Any, end: Any, half_days: int, days: int) -> None:
    if end < start:
        raise BadDates()
    if half_days + days <= 0:
        raise NoHours()
    if not rules.days_fit(start=start, end=end, half_days=half_days, days=days):
        raise DaysExceedDates(
            f"{start} 至 {end} 不足 {days} 天又 {half_days} 个半天",
            f"{start} to {end} does not hold {days} days and {half_days} half days",
        )


def _check_category(category: str, org: list[str], **where: Any) -> None:
    """The category is one the teacher's region counts in (its caps apply to it): a name the
    region does not know would be counted uncapped, or not at all."""
    region = region_for(
        OrgPath(province_id=org[0], city_id=org[1], county_id=org[2], school_id=org[3])
    )
    allowed = [c.code for c in region.categories]
    if region.category(category) not in allowed:
        raise UnknownCategory(category, region=region.name, allowed=allowed, **where)


async def _check_not_entered(
    session: AsyncSession,
    teacher_id: uuid.UUID,
    training_name: str,
    start: date,
    end: date,
    *,
    other_than: uuid.UUID | None = None,
    **where: Any,
) -> None:
    earlier = await repo.same_training(
        session,
        teacher_id=teacher_id,
        training_name=training_name,
        start_date=start,
        end_date=end,
        other_than=other_than,
    )
    if earlier is not None:
        raise DuplicateTraining(record_id=str(earlier), **where)


async def create_records(
    session: AsyncSession, *, who: Principal, items: list[RecordIn]
) -> list[OfflineRecord]:
    """An institution enters one or many records for teachers inside its org path. The
    teacher must be known from enrollment's events and placed (as credits stores it) inside the
    institution's org path; the record is named and placed as enrollment says. A teacher not
    known, or known elsewhere, is the same 404 `teacher_not_found` (naming the item), so an
    institution learns nothing about teachers outside its area; nothing of the batch is kept."""
    who.ensure_role(Role.training_institution)
    known = await teachers(session, [item.teacher_id for item in items])
    created = []
    for index, item in enumerate(items):
        teacher = known.get(item.teacher_id)
        if teacher is None or not who.covers(teacher.org_path):
            raise TeacherUnknown(teacher_id=str(item.teacher_id), index=index)
        name, org = teacher.name, teacher.org_path
        _check_amount(item.start_date, item.end_date, item.half_days, item.days)
        _check_category(item.category, org, index=index)
        await _check_not_entered(
            session,
            item.teacher_id,
            item.training_name,
            item.start_date,
            item.end_date,
            index=index,
        )
        record = OfflineRecord(
            id=uuid.uuid4(),
            teacher_id=item.teacher_id,
            teacher_name=name,
            province_id=org[0],
            city_id=org[1],
            county_id=org[2],
            school_id=org[3],
            institution_user_id=who.user_id,
            training_name=item.training_name,
            category=item.category,
            start_date=item.start_date,
            end_date=item.end_date,
            half_days=item.half_days,
            days=item.days,
            hours=rules.hours_for(half_days=item.half_days, days=item.days),
            # The training's end date decides the year it counts in.
            year=item.end_date.year,
            status=rules.SUBMITTED,
        )
        session.add(record)
        await session.flush()
        _audit(session, record, who, "submit")
        created.append(record)
    await session.flush()
    now = datetime.now(UTC)
    await CREDITS_OUTBOX.add(session, *(record_changed(r, at=now) for r in created))
    return created


def can_read(who: Principal, record: OfflineRecord) -> bool:
    """The teacher the record is for; the institution that entered it (inside its area); the
    admins covering the record's stored place. Workshop hosts, experts and providers: none."""
    if who.role == Role.training_institution:
        # An institution works on the records it entered, no one else's.
        return record.institution_user_id == who.user_id and who.covers(record.org_path())
    return may_read_teacher_record(who, teacher_id=record.teacher_id, org_path=record.org_path())


def listing_scope(
    who: Principal, teacher_id: uuid.UUID | None
) -> tuple[tuple[str, ...], str | None, uuid.UUID | None]:
    """What a caller's list of records holds, as (org scope, institution, teacher): a teacher
    their own records whatever they ask for (404 for another teacher's), an institution the
    records it entered, an admin those stored in its subtree; any other role none (403)."""
    if who.role == Role.teacher:
        me = own_teacher_id(who)
        if me is None or (teacher_id is not None and teacher_id != me):
            raise RecordNotFound()
        return (), None, me
    if who.role == Role.training_institution:
        return who.org_path, who.user_id, teacher_id
    if who.is_admin:
        return who.org_path, None, teacher_id
    raise Forbidden()


async def get_visible(reader: Reader, *, who: Principal, record_id: uuid.UUID) -> OfflineRecord:
    record = await repo.get(reader, record_id)
    # Out of scope looks like absent: a caller learns nothing about other regions' ids.
    if record is None or not can_read(who, record):
        raise RecordNotFound()
    return record


async def _for_step(
    session: AsyncSession, *, who: Principal, record_id: uuid.UUID, role: Role
) -> OfflineRecord:
    record = await repo.lock(session, record_id)
    if record is None or not can_read(who, record):
        raise RecordNotFound()
    who.ensure_role(role)
    return record


def _decide(record: OfflineRecord, body: DecisionIn, passed: str, rejected: str) -> None:
    if body.decision == "reject":
        if not (body.reason or "").strip():
            raise ReasonRequired()
        record.status = rejected
        record.reject_reason = body.reason
    else:
        record.status = passed
        record.reject_reason = None
    record.updated_at = datetime.now(UTC)


async def review(
    session: AsyncSession, *, who: Principal, record_id: uuid.UUID, body: DecisionIn
) -> OfflineRecord:
    """County 初审: pass to the city, or send back to the institution with a reason."""
    record = await _for_step(session, who=who, record_id=record_id, role=Role.county_admin)
    if record.status != rules.SUBMITTED:
        raise InvalidTransition(f"记录状态为「{rules.STATUS_ZH[record.status]}」，不能初审")
    before = _snapshot(record)
    _decide(record, body, rules.COUNTY_PASSED, rules.COUNTY_REJECTED)
    _audit(session, record, who, f"review_{body.decision}", reason=body.reason, before=before)
    await session.flush()
    await CREDITS_OUTBOX.add(session, record_changed(record, at=record.updated_at))
    return record


async def approve(
    session: AsyncSession, *, who: Principal, record_id: uuid.UUID, body: DecisionIn
) -> OfflineRecord:
    """City 审批: approval credits the hours to the ledger in the same transaction."""
    record = await _for_step(session, who=who, record_id=record_id, role=Role.city_admin)
    if record.status != rules.COUNTY_PASSED:
        raise InvalidTransition(f"记录状态为「{rules.STATUS_ZH[record.status]}」，不能审批")
    before = _snapshot(record)
    _decide(record, body, rules.APPROVED, rules.CITY_REJECTED)
    _audit(session, record, who, f"approval_{body.decision}", reason=body.reason, before=before)
    if record.status == rules.APPROVED:
        await post_entries(
            session,
            [
                EntryIn(
                    teacher_id=record.teacher_id,
                    source_kind="offline",
                    source_id=str(record.id),
                    category=record.category,
                    hours=record.hours,
                    occurred_at=datetime.combine(record.end_date, time(12), tzinfo=UTC),
                    org=OrgPath(
                        province_id=record.province_id,
                        city_id=record.city_id,
                        county_id=record.county_id,
                        school_id=record.school_id,
                    ),
                    description=f"线下培训：{record.training_name}",
                    year=record.year,
                )
            ],
        )
        entry = await entry_by_source(
            session, teacher_id=record.teacher_id, source_kind="offline", source_id=str(record.id)
        )
        record.credited_year = entry.year if entry is not None else None
    await session.flush()
    await CREDITS_OUTBOX.add(session, record_changed(record, at=record.updated_at))
    return record


async def correct(
    session: AsyncSession, *, who: Principal, record_id: uuid.UUID, body: CorrectionIn
) -> OfflineRecord:
    record = await _for_step(session, who=who, record_id=record_id, role=Role.training_institution)
    if record.status not in rules.REJECTED:
        raise NotCorrectable()
    before = _snapshot(record)
    for name, value in body.model_dump(exclude_unset=True).items():
        if value is not None:
            setattr(record, name, value)
    _check_amount(record.start_date, record.end_date, record.half_days, record.days)
    _check_category(record.category, record.org_path())
    await _check_not_entered(
        session,
        record.teacher_id,
        record.training_name,
        record.start_date,
        record.end_date,
        other_than=record.id,
    )
    record.hours = rules.hours_for(half_days=record.half_days, days=record.days)
    record.year = record.end_date.year
    record.updated_at = datetime.now(UTC)
    _audit(session, record, who, "correct", before=before)
    await session.flush()
    # Still returned, but with the corrected category, hours or year: the snapshot follows.
    await CREDITS_OUTBOX.add(session, record_changed(record, at=record.updated_at))
    return record


async def resubmit(session: AsyncSession, *, who: Principal, record_id: uuid.UUID) -> OfflineRecord:
    record = await _for_step(session, who=who, record_id=record_id, role=Role.training_institution)
    if record.status not in rules.REJECTED:
        raise InvalidTransition("只有被退回的记录可以重新提交")
    before = _snapshot(record)
    record.status = rules.SUBMITTED
    record.updated_at = datetime.now(UTC)
    _audit(session, record, who, "resubmit", before=before)
    await session.flush()
    await CREDITS_OUTBOX.add(session, record_changed(record, at=record.updated_at))
    return record
