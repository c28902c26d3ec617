"""The xAPI statements resource (学习记录): store, compare, void, read; completion statements
become completions in attainment, counted once per course: a new statement (a new attempt, in
xAPI's terms) at a course that counts already adds no hours. Every statement belongs to the
provider that sent it."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from learning.attainment import service as attainment
from learning.attainment.facts import Recorded
from learning.providers import xapi_statements as xs
from learning.providers.errors import (
    XapiCannotVoidVoiding,
    XapiStatementConflict,
    XapiStatementInvalid,
    XapiStatementNotFound,
    XapiVoidForbidden,
)
from learning.providers.learners import (
    active_plan,
    ensure_not_future,
    resolve_course,
)
from learning.providers.models import Provider, XapiStatement

MAX_BATCH = 500


def authority(provider: Provider, home_page: str) -> dict[str, Any]:
    """The LRS sets `authority` to the credentials' owner: the provider."""
    return {
        "objectType": "Agent",
        "name": provider.name,
        "account": {"homePage": home_page.rstrip("/") + "/providers", "name": provider.code},
    }


def as_batch(body: Any) -> list[dict[str, Any]]:
    items = body if isinstance(body, list) else [body]
    if not items:
        raise XapiStatementInvalid("语句数组为空", "Empty statement array")
    if len(items) > MAX_BATCH:
        raise XapiStatementInvalid(
            f"一次最多 {MAX_BATCH} 条语句", f"At most {MAX_BATCH} statements per request"
        )
    checked = [xs.validate(s, f"statements[{i}]") for i, s in enumerate(items)]
    ids = [uuid.UUID(s["id"]) for s in checked if "id" in s]
    if len(ids) != len(set(ids)):
        raise XapiStatementInvalid("同一批中语句编号重复", "Duplicate statement ids in one batch")
    return checked


@dataclass(frozen=True)
class Stored:
    """A statement stored, and for a completion statement what attainment made of it."""

    statement_id: uuid.UUID
    completion: Recorded | None = None


def completion_header(stored: list[Stored]) -> str:
    """`X-Yanxiu-Completions`: "<statement id> <status> <counting completion id or ->" per
    completion statement, comma-separated; status is recorded, already_counted (the course
    counts already: no hours added), held or already_recorded."""
    return ", ".join(
        f"{s.statement_id} {ANSWER[s.completion.status]} {s.completion.completion_id or '-'}"
        for s in stored
        if s.completion is not None
    )


ANSWER = {
    "counted": "recorded",
    "already_recorded": "already_recorded",
    "already_counted": "already_counted",
    "held": "held",
}


async def store_batch(
    session: AsyncSession, *, provider: Provider, statements: list[dict[str, Any]], home_page: str
) -> list[Stored]:
    """All or nothing: a refusal anywhere rolls the whole request back (the boundary)."""
    return [
        await store(session, provider=provider, statement=s, home_page=home_page)
        for s in statements
    ]


async def store(
    session: AsyncSession, *, provider: Provider, statement: dict[str, Any], home_page: str
) -> Stored:
    now = datetime.now(UTC)
    statement_id = uuid.UUID(statement["id"]) if "id" in statement else uuid.uuid4()
    stored = {
        **xs.normalized(statement),
        "id": str(statement_id),
        "timestamp": statement.get("timestamp") or now.isoformat(),
        "stored": now.isoformat(),
        "authority": authority(provider, home_page),
        "version": statement.get("version") or "1.0.0",
    }
    target = xs.voided_target(statement)
    inserted = await session.execute(
        insert(XapiStatement)
        .values(
            id=statement_id,
            provider_id=provider.id,
            statement=stored,
            verb_id=xs.verb_of(statement),
            voids_id=target,
            stored=now,
        )
        .on_conflict_do_nothing(index_elements=[XapiStatement.id])
        .returning(XapiStatement.id)
    )
    if inserted.first() is None:
        await _same_or_conflict(session, provider=provider, statement_id=statement_id, new=stored)
        return Stored(statement_id)
    if target is not None:
        await _void(session, provider=provider, target_id=target, by=statement_id)
    elif await _voided_beforehand(session, provider=provider, statement_id=statement_id):
        await _mark_voided(session, statement_id)
    elif xs.is_completion(stored):
        done = await _complete(session, provider=provider, statement=stored, home_page=home_page)
        return Stored(statement_id, done)
    return Stored(statement_id)


async def _same_or_conflict(
    session: AsyncSession, *, provider: Provider, statement_id: uuid.UUID, new: dict[str, Any]
) -> None:
    """Same id and the same statement: a no-op. Otherwise 409 (also for another provider's id)."""
    existing = await session.get(XapiStatement, statement_id)
    assert existing is not None
    if existing.provider_id != provider.id or not xs.same_statement(existing.statement, new):
        raise XapiStatementConflict(statement_id=str(statement_id))


async def _void(
    session: AsyncSession, *, provider: Provider, target_id: uuid.UUID, by: uuid.UUID
) -> None:
    target = (
        await session.execute(
            select(XapiStatement).where(XapiStatement.id == target_id).with_for_update()
        )
    ).scalar_one_or_none()
    if target is None:
        return  # the spec: not a reason to refuse; the target is voided when it arrives
    if target.provider_id != provider.id:
        raise XapiVoidForbidden(statement_id=str(target_id))
    if target.verb_id == xs.VOIDED:
        raise XapiCannotVoidVoiding(statement_id=str(target_id))
    if target.voided:
        return
    target.voided = True
    await session.flush()
    if xs.is_completion(target.statement):
        # Its counted completion is revoked (an attempt at the same course counts instead),
        # or the attempt or held completion it became is withdrawn.
        await attainment.revoke_completion(
            session, source="xapi", source_ref=str(target.id), reason=f"xapi voided by {by}"
        )


async def _voided_beforehand(
    session: AsyncSession, *, provider: Provider, statement_id: uuid.UUID
) -> bool:
    found = await session.execute(
        select(XapiStatement.id)
        .where(XapiStatement.voids_id == statement_id, XapiStatement.provider_id == provider.id)
        .limit(1)
    )
    return found.first() is not None


async def _mark_voided(session: AsyncSession, statement_id: uuid.UUID) -> None:
    await session.execute(
        update(XapiStatement).where(XapiStatement.id == statement_id).values(voided=True)
    )


async def _complete(
    session: AsyncSession, *, provider: Provider, statement: dict[str, Any], home_page: str
) -> Recorded:
    facts = xs.completion_facts(
        statement,
        home_page=home_page,
        completed_at=xs.parse_time(statement["timestamp"], "statement.timestamp"),
    )
    ensure_not_future(facts.completed_at)
    plan = await active_plan(
        session, provider=provider, teacher_id=facts.teacher_id, project_id=facts.project_id
    )
    course = await resolve_course(
        session,
        course_id=_maybe_uuid(facts.course_key),
        code=facts.course_key[:60],
        title=facts.title,
        category=facts.category,
        hours=facts.hours,
    )
    done = await attainment.count_completion(
        session,
        plan=plan,
        teacher_id=plan.teacher_id,
        project_id=plan.project_id,
        source="xapi",
        source_ref=statement["id"],
        completed_at=facts.completed_at,
        course_id=course.course_id,
        course_title=course.title,
        category=course.category,
        hours=course.hours,
        provider_id=str(provider.id),
        course_code=facts.course_key[:60],
        score=facts.score,
    )
    await session.execute(
        update(XapiStatement)
        .where(XapiStatement.id == uuid.UUID(statement["id"]))
        .values(completion_id=done.completion_id)
    )
    return done


def _maybe_uuid(value: str) -> uuid.UUID | None:
    try:
        return uuid.UUID(value)
    except ValueError:
        return None


async def get(
    session: AsyncSession, *, provider: Provider, statement_id: uuid.UUID, voided: bool
) -> dict[str, Any]:
    """statementId finds a statement that is not voided; voidedStatementId one that is."""
    row = await session.get(XapiStatement, statement_id)
    if row is None or row.provider_id != provider.id or row.voided != voided:
        raise XapiStatementNotFound(statement_id=str(statement_id))
    return row.statement


async def list_statements(
    session: AsyncSession,
    *,
    provider: Provider,
    verb: str | None,
    since: datetime | None,
    until: datetime | None,
    after_seq: int | None,
    limit: int,
) -> tuple[list[dict[str, Any]], int | None]:
    """Newest first (the spec's default order) without voided statements; returns the page and
    the last row's sequence when more follow."""
    query = select(XapiStatement).where(
        XapiStatement.provider_id == provider.id, XapiStatement.voided.is_(False)
    )
    if verb:
        query = query.where(XapiStatement.verb_id == verb)
    if since:
        query = query.where(XapiStatement.stored > since)
    if until:
        query = query.where(XapiStatement.stored <= until)
    if after_seq is not None:
        query = query.where(XapiStatement.seq < after_seq)
    rows = list(
        (await session.execute(query.order_by(XapiStatement.seq.desc()).limit(limit + 1))).scalars()
    )
    more = rows[limit - 1].seq if len(rows) > limit else None
    return [r.statement for r in rows[:limit]], more
