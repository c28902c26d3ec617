"""待审完成记录: completions dated after their window closed, held where the project's rule set
says `late_completions: hold`. An admin whose subtree holds the teacher's plan (its stored
school, never a request's) lists them and accepts (the completion counts, once per course) or
rejects (it never does); each decision is audited."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

from sqlalchemy.ext.asyncio import AsyncSession

from learning import repository as plans_repo
from learning.attainment import repository as repo
from learning.attainment.errors import HeldCompletionDecided, HeldCompletionNotFound
from learning.attainment.models import CompletionAttempt
from learning.attainment.schemas import HeldCompletionRead, HeldDecision, HeldPage
from learning.attainment.service import accept_held
from learning.audit import AUDIT
from learning.models import Plan
from yanxiu.kit.auth import Principal, Role
from yanxiu.kit.pagination import InvalidCursor, decode_cursor, encode_cursor
from yanxiu.kit.reads import Reader
from yanxiu.kit.scope import admin_covers

DECIDERS = (Role.school_admin, Role.county_admin, Role.city_admin, Role.province_admin)


def read(attempt: CompletionAttempt, plan: Plan) -> HeldCompletionRead:
    return HeldCompletionRead(
        id=attempt.id,
        teacher_id=attempt.teacher_id,
        teacher_name=plan.teacher_name,
        project_id=attempt.project_id,
        school_id=plan.school_id,
        source=attempt.source,
        course_title=attempt.course_title,
        category=attempt.category,
        hours=attempt.hours,
        completed_at=attempt.completed_at,
        reason=attempt.reason,
        status=attempt.status,
        completion_id=attempt.completion_id,
        decided_by=attempt.decided_by,
        decided_at=attempt.decided_at,
        created_at=attempt.created_at,
    )


def _after(cursor: str | None) -> tuple[datetime, uuid.UUID] | None:
    raw = decode_cursor(cursor)
    if raw is None:
        return None
    try:
        at, _, ident = str(raw).partition("|")
        return datetime.fromisoformat(at), uuid.UUID(ident)
    except ValueError as exc:
        raise InvalidCursor() from exc


async def list_held(
    reader: Reader,
    *,
    actor: Principal,
    project_id: uuid.UUID | None,
    cursor: str | None,
    limit: int,
) -> HeldPage:
    """Held completions of the teachers in the caller's subtree, oldest first."""
    actor.ensure_role(*DECIDERS)
    rows = await repo.held_in_scope(
        reader,
        org_path=actor.org_path,
        project_id=project_id,
        after=_after(cursor),
        limit=limit + 1,
    )
    last = rows[limit - 1][0] if len(rows) > limit else None
    return HeldPage(
        items=[read(a, p) for a, p in rows[:limit]],
        next_cursor=encode_cursor(f"{last.created_at.isoformat()}|{last.id}") if last else None,
    )


async def decide(
    session: AsyncSession, *, actor: Principal, attempt_id: uuid.UUID, body: HeldDecision
) -> HeldCompletionRead:
    """Accept or reject a held completion; out of scope is 404, like a wrong id."""
    actor.ensure_role(*DECIDERS)
    attempt = await repo.attempt_for_update(session, attempt_id)
    plan = (
        await plans_repo.plan_of(
            session, teacher_id=attempt.teacher_id, project_id=attempt.project_id
        )
        if attempt is not None
        else None
    )
    if attempt is None or plan is None or not admin_covers(actor, plan.org_path):
        raise HeldCompletionNotFound()
    if attempt.status != "held":
        raise HeldCompletionDecided(decided_as=attempt.status)
    before = {"status": attempt.status, "reason": attempt.reason}
    if body.decision == "accept":
        await accept_held(session, plan=plan, attempt=attempt)
    else:
        attempt.status = "rejected"
    attempt.reason = body.reason
    attempt.decided_by, attempt.decided_at = actor.user_id, datetime.now(UTC)
    await session.flush()
    await AUDIT.record(
        session,
        actor=actor,
        action="completion.decide_held",
        target_type="completion_attempt",
        target_id=str(attempt.id),
        target_org=plan.org_path,
        before=before,
        after={
            "decision": body.decision,
            "status": attempt.status,
            "completion_id": attempt.completion_id,
            "reason": body.reason,
            "teacher_id": attempt.teacher_id,
            "project_id": attempt.project_id,
            "course_title": attempt.course_title,
            "hours": attempt.hours,
        },
    )
    return read(attempt, plan)
