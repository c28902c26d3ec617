"""Providers' completion events (课程完成回传): recorded once per (provider, event id).

The event row is claimed first (INSERT … ON CONFLICT DO NOTHING on its primary key), so a
concurrent duplicate waits on the row lock and then reads the first answer; the completion
itself is unique per ("provider", "<provider id>:<event id>") in attainment, and counts once
per course: the same course under a new event id is answered `already_counted`."""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any, Literal

import orjson
from fastapi.encoders import jsonable_encoder
from sqlalchemy import select, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from learning.attainment import service as attainment
from learning.attainment.facts import Status
from learning.providers.errors import CompletionEventNotFound, EventIdReused
from learning.providers.learners import active_plan, ensure_not_future, resolve_course
from learning.providers.models import Provider, ProviderEvent
from learning.providers.schemas import CompletionIn, CompletionResult
from yanxiu.kit import writes
from yanxiu.kit.errors import DomainError, render_domain_error
from yanxiu.kit.pagination import Page, decode_cursor, next_cursor
from yanxiu.kit.writes import SessionReads


def body_hash(data: CompletionIn) -> str:
    """sha256 of the event's meaning: key order, whitespace, time zone and "2" vs "2.0" hours
    do not make a different body."""
    canonical: dict[str, Any] = data.model_dump(mode="json")
    canonical["completed_at"] = data.completed_at.timestamp()
    hours = data.course.hours
    canonical["course"]["hours"] = None if hours is None else str(hours.normalize())
    # Added later: an event without a score hashes as it did before the field existed.
    if data.score is None:
        del canonical["score"]
    else:
        canonical["score"] = str(data.score.normalize())
    return hashlib.sha256(orjson.dumps(canonical, option=orjson.OPT_SORT_KEYS)).hexdigest()


def source_ref(provider: Provider, event_id: str) -> str:
    # Event ids are the provider's own: two providers may both send "evt-1".
    return f"{provider.id}:{event_id}"


async def record(
    session: AsyncSession, *, provider: Provider, data: CompletionIn
) -> tuple[CompletionResult, bool]:
    """Record one event; returns (result, replayed). The same event id with the same body gets
    the stored result back; with a different body, EventIdReused."""
    digest = body_hash(data)
    claimed = await writes.run(
        session,
        insert(ProviderEvent)
        .values(provider_id=provider.id, event_id=data.event_id, body_hash=digest, result={})
        .on_conflict_do_nothing()
        .returning(ProviderEvent.event_id),
    )
    if not claimed:
        earlier = await SessionReads(session).one(
            ProviderEvent,
            select(ProviderEvent).where(
                ProviderEvent.provider_id == provider.id,
                ProviderEvent.event_id == data.event_id,
            ),
        )
        assert earlier is not None  # the claim found it
        if earlier.body_hash != digest:
            raise EventIdReused(event_id=data.event_id)
        replayed = CompletionResult.model_validate(earlier.result)
        return replayed.model_copy(update={"retracted_at": earlier.retracted_at}), True
    ensure_not_future(data.completed_at)
    plan = await active_plan(
        session, provider=provider, teacher_id=data.teacher_id, project_id=data.project_id
    )
    course = await resolve_course(
        session,
        course_id=data.course.id,
        code=data.course.code,
        title=data.course.title,
        category=data.course.category,
        hours=data.course.hours,
    )
    done = await attainment.count_completion(
        session,
        plan=plan,
        fresh=True,  # the event id was claimed above: nothing is recorded under it yet
        teacher_id=plan.teacher_id,
        project_id=plan.project_id,
        source="provider",
        source_ref=source_ref(provider, data.event_id),
        completed_at=data.completed_at,
        course_id=course.course_id,
        course_title=course.title,
        category=course.category,
        hours=course.hours,
        provider_id=str(provider.id),
        course_code=data.course.code,
        score=data.score,
    )
    result = CompletionResult(
        event_id=data.event_id,
        status=ANSWER[done.status],
        completion_id=done.completion_id,
        course_id=course.course_id,
        course_title=course.title,
        category=course.category,
        hours=Decimal(course.hours),
        attempt_id=done.attempt_id,
        best_score=done.best_score,
    )
    await writes.run(
        session,
        update(ProviderEvent)
        .where(ProviderEvent.provider_id == provider.id, ProviderEvent.event_id == data.event_id)
        .values(completion_id=done.completion_id, result=jsonable_encoder(result)),
    )
    return result, False


# What attainment made of the event, as the provider's answer says it.
ANSWER: dict[Status, Literal["recorded", "already_recorded", "already_counted", "held"]] = {
    "counted": "recorded",
    "already_recorded": "already_recorded",
    "already_counted": "already_counted",
    "held": "held",
}


async def retract(session: AsyncSession, *, provider: Provider, event_id: str) -> None:
    """The provider withdraws an event (撤回): its completion no longer counts. Idempotent; the
    event id stays taken, so re-sending it replays the (retracted) result, never re-records."""
    event = (
        await session.execute(
            select(ProviderEvent)
            .where(ProviderEvent.provider_id == provider.id, ProviderEvent.event_id == event_id)
            .with_for_update()
        )
    ).scalar_one_or_none()
    if event is None:
        raise CompletionEventNotFound(event_id=event_id)
    if event.retracted_at is not None:
        return
    event.retracted_at = datetime.now(UTC)
    await session.flush()
    # The counted completion is revoked (an attempt at the same course counts instead), or
    # the attempt or held completion this event became is withdrawn.
    await attainment.revoke_completion(
        session,
        source="provider",
        source_ref=source_ref(provider, event_id),
        reason="retracted by provider",
    )


async def list_events(
    session: AsyncSession, *, provider: Provider, cursor: str | None, limit: int
) -> Page[CompletionResult]:
    """The provider's own recorded events, oldest first (对账: reconciliation)."""
    query = select(ProviderEvent).where(ProviderEvent.provider_id == provider.id)
    after = decode_cursor(cursor)
    if after is not None:
        query = query.where(ProviderEvent.event_id > str(after))
    rows = list(
        (await session.execute(query.order_by(ProviderEvent.event_id).limit(limit + 1))).scalars()
    )
    return Page(
        items=[
            CompletionResult.model_validate(r.result).model_copy(
                update={"retracted_at": r.retracted_at}
            )
            for r in rows[:limit]
        ],
        next_cursor=next_cursor([r.event_id for r in rows], limit),
    )


async def record_batch(
    session: AsyncSession, *, provider: Provider, items: list[CompletionIn]
) -> list[tuple[str, int, CompletionResult | None, dict[str, Any] | None]]:
    """Each event in its own savepoint: one refused event does not undo the others.
    Returns (event id, HTTP status it would have had alone, result, problem)."""
    out: list[tuple[str, int, CompletionResult | None, dict[str, Any] | None]] = []
    for item in items:
        try:
            async with session.begin_nested():
                result, replayed = await record(session, provider=provider, data=item)
        except DomainError as exc:
            problem = orjson.loads(render_domain_error(exc).body)
            out.append((item.event_id, exc.status, None, problem))
            continue
        out.append((item.event_id, 200 if replayed else 201, result, None))
    return out
