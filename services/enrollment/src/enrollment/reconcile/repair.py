"""修复 (repair): re-sends enrollment's own facts for the drifted teachers only, as the resync
does for everyone (enrollment.resync): the teacher as `TeacherUpdated` (credits' teachers,
learning's plan place and suspension) and their registration in the project as
`TeacherRegistered` (learning's plan, lessons' pool); where a service holds a member the project
has no registration for, `TeacherWithdrawn`. Events leave only through the outbox. Consumers
apply each as an upsert and their inboxes absorb copies, so a repair repeated, or racing a
change, ends on the latest fact; a registration racing the repair of its teacher's extra row
shows in the next report. Nothing commits here: the request boundary does, and `yanxiu
reconcile --repair` commits chunk by chunk."""

from __future__ import annotations

import uuid
from collections import Counter
from collections.abc import Awaitable, Callable, Sequence
from contextlib import aclosing
from dataclasses import dataclass, field
from datetime import UTC, datetime

from sqlalchemy.ext.asyncio import AsyncSession

from enrollment.audit import AUDIT
from enrollment.models import Teacher
from enrollment.reconcile import repository as repo
from enrollment.reconcile.compare import Drift, DriftKind, by_teacher
from enrollment.reconcile.schemas import DriftCounts, RepairRead, Resent
from enrollment.reconcile.service import ensure_project
from enrollment.reconcile.streams import STREAMS, Check, Consumers, checks
from enrollment.resync.service import resend_registrations, resend_teachers
from enrollment.teachers.history import org_of
from yanxiu.contracts.enrollment import TeacherWithdrawn
from yanxiu.contracts.envelope import OrgPath
from yanxiu.kit.auth import Principal
from yanxiu.kit.outbox import Outbox
from yanxiu.kit.roster import ensure_reader

REPAIR_CHUNK = 500
REPAIR_MAX_TEACHERS = 10_000
"""Drifted teachers one request repairs (one transaction); the rest on the next call, or all
at once with `yanxiu reconcile --repair`, which commits chunk by chunk."""
AUDIT_IDS = 200
"""Teacher ids an audit entry lists (with the count of all)."""
UNKNOWN_REGISTRATION = uuid.UUID(int=0)
"""The registration id of a withdrawal re-sent for a row whose registration enrollment deleted
and whose holder never said its id; consumers withdraw by project and teacher."""

TeacherDrifts = tuple[uuid.UUID, list[Drift | None]]
"""A drifted teacher and each stream's drift (None where that stream is right), as STREAMS."""


@dataclass
class Repaired:
    teachers: int = 0
    unrepairable: int = 0
    resent: Resent = field(default_factory=Resent)
    drift: dict[str, Counter[DriftKind]] = field(
        default_factory=lambda: {s.service: Counter() for s in STREAMS}
    )
    teacher_ids: list[uuid.UUID] = field(default_factory=list)
    more: bool = False

    def add(self, resent: Resent, unrepairable: int) -> None:
        self.resent.teacher_updated += resent.teacher_updated
        self.resent.teacher_registered += resent.teacher_registered
        self.resent.teacher_withdrawn += resent.teacher_withdrawn
        self.unrepairable += unrepairable

    def audit_after(self) -> dict[str, object]:
        return {
            "teachers": self.teachers,
            "unrepairable": self.unrepairable,
            **self.resent.model_dump(),
            "drift": {s: {k.value: n for k, n in c.items()} for s, c in self.drift.items() if c},
            "teacher_ids": [str(t) for t in self.teacher_ids[:AUDIT_IDS]],
            "more": self.more,
        }


async def resend_chunk(
    session: AsyncSession,
    outbox: Outbox,
    *,
    project_id: uuid.UUID,
    chunk: Sequence[TeacherDrifts],
) -> tuple[Resent, int]:
    """Re-sends the facts of these drifted teachers (enrollment.resync's events, locked FOR
    SHARE as the resync locks them); returns what was sent and how many teachers enrollment
    has nothing to send for."""
    ids = sorted(t for t, _ in chunk)
    _, updated = await resend_teachers(
        session, outbox=outbox, after=None, since=None, limit=len(ids), teacher_ids=ids
    )
    _, registered = await resend_registrations(
        session,
        outbox=outbox,
        after=None,
        since=None,
        limit=len(ids),
        teacher_ids=ids,
        project_id=project_id,
    )
    known = await repo.teachers_known(session, ids)
    in_project = await repo.registered_among(session, project_id=project_id, teacher_ids=ids)
    withdrawals = [
        w
        for teacher_id, row in chunk
        if teacher_id not in in_project
        for w in [_withdrawal(project_id, teacher_id, row, known.get(teacher_id))]
        if w is not None
    ]
    await outbox.add(session, *withdrawals)
    sent_for = set(known) | {w.teacher_id for w in withdrawals}
    resent = Resent(
        teacher_updated=updated, teacher_registered=registered, teacher_withdrawn=len(withdrawals)
    )
    return resent, sum(1 for t in ids if t not in sent_for)


def _withdrawal(
    project_id: uuid.UUID, teacher_id: uuid.UUID, row: list[Drift | None], teacher: Teacher | None
) -> TeacherWithdrawn | None:
    """撤销报名, told again: a service holds a member of the project that enrollment has no
    registration for (the withdrawal never reached it, or the row was made by mistake)."""
    extras = [
        d
        for s, d in zip(STREAMS, row, strict=True)
        if s.per_project and d is not None and d.kind == DriftKind.extra and d.found is not None
    ]
    if not extras:
        return None
    held = [d.found for d in extras if d.found is not None]
    registration = next((e.registration_id for e in held if e.registration_id), None)
    org = (
        org_of(teacher)
        if teacher is not None
        else OrgPath(
            province_id=held[0].province_id,
            city_id=held[0].city_id,
            county_id=held[0].county_id,
            school_id=held[0].school_id,
        )
    )
    return TeacherWithdrawn(
        registration_id=registration or UNKNOWN_REGISTRATION,
        project_id=project_id,
        teacher_id=teacher_id,
        org=org,
        withdrawn_at=datetime.now(UTC),
    )


async def repair_drift(
    found: list[Check],
    *,
    write: Callable[[list[TeacherDrifts]], Awaitable[tuple[Resent, int]]],
    max_teachers: int | None,
    chunk_size: int = REPAIR_CHUNK,
) -> Repaired:
    """Walks every stream's drift together, teacher by teacher, and hands chunks to `write`
    (which re-sends them, in the request's transaction or one of its own)."""
    done = Repaired()
    chunk: list[TeacherDrifts] = []
    async with aclosing(by_teacher([c.drifts() for c in found])) as teachers:
        async for teacher_id, row in teachers:
            if max_teachers is not None and done.teachers >= max_teachers:
                done.more = True
                break
            for c, d in zip(found, row, strict=True):
                if d is not None:
                    done.drift[c.stream.service][d.kind] += 1
            done.teachers += 1
            if len(done.teacher_ids) < AUDIT_IDS:
                done.teacher_ids.append(teacher_id)
            chunk.append((teacher_id, row))
            if len(chunk) >= chunk_size:
                done.add(*await write(chunk))
                chunk = []
    if chunk:
        done.add(*await write(chunk))
    return done


async def repair(
    session: AsyncSession,
    outbox: Outbox,
    *,
    actor: Principal,
    project_id: uuid.UUID,
    consumers: Consumers,
    max_teachers: int = REPAIR_MAX_TEACHERS,
) -> RepairRead:
    """修复: re-send enrollment's facts for the drifted teachers under the caller's org, and
    record it in the audit trail (in the same transaction as the re-sent events)."""
    scope = ensure_reader(actor)
    await ensure_project(session, project_id)
    found = await checks(session, project_id=project_id, scope=scope, consumers=consumers)

    async def write(chunk: list[TeacherDrifts]) -> tuple[Resent, int]:
        return await resend_chunk(session, outbox, project_id=project_id, chunk=chunk)

    done = await repair_drift(found, write=write, max_teachers=max_teachers)
    if done.teachers:
        await AUDIT.record(
            session,
            actor=actor,
            action="reconciliation.repair",
            target_type="project",
            target_id=str(project_id),
            target_org=list(scope),
            after=done.audit_after(),
        )
    return repair_read(project_id, scope, done)


def repair_read(project_id: uuid.UUID, scope: Sequence[str], done: Repaired) -> RepairRead:
    r = done.resent
    sent = r.teacher_updated + r.teacher_registered + r.teacher_withdrawn
    if not done.teachers:
        zh, en = "核对一致，无需修复", "In sync: nothing to repair"
    else:
        zh = (
            f"已为 {done.teachers} 名教师重发 {sent} 条事件，各服务处理后即恢复一致"
            + ("；仍有未修复的教师，请再次执行" if done.more else "")
            + (
                f"；{done.unrepairable} 名教师在报名信息中不存在，无法修复"
                if done.unrepairable
                else ""
            )
        )
        en = (
            f"Re-sent {sent} events for {done.teachers} teachers; the services match once they "
            "apply them"
            + ("; more drifted teachers remain, run the repair again" if done.more else "")
            + (
                f"; {done.unrepairable} teachers are unknown to enrollment and cannot be repaired"
                if done.unrepairable
                else ""
            )
        )
    return RepairRead(
        project_id=project_id,
        scope=list(scope),
        teachers=done.teachers,
        unrepairable=done.unrepairable,
        resent=done.resent,
        drift={s: DriftCounts.of(c) for s, c in done.drift.items()},
        more=done.more,
        message_zh=zh,
        message_en=en,
    )
