"""Store first, map after (学习记录映射): a completion statement is stored like every valid
statement; then, in the same transaction but behind a savepoint, it is turned into learning — a
teacher's completion of a course in a project, counted once per course. What it became is kept on
the statement (`mapping`, with the problem code when it did not count):

- counted, already_counted, held, already_recorded: attainment's answer;
- waiting: the teacher has no plan in the project yet, the course is not in the catalogue yet,
  or the actor is not (yet) a teacher account; tried again when the teacher registers for a
  project or the course is added (`map_waiting`);
- unmappable: the statement itself can never count (no project, dated in the future or outside
  the learning window, unusable hours or category).

A mapping that fails leaves nothing behind (the savepoint is rolled back) and never refuses the
statement: providers read the outcome in `GET /xapi/mappings`.
"""

from __future__ import annotations

import uuid
from collections.abc import Collection
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from learning.attainment import service as attainment
from learning.attainment.facts import Recorded
from learning.providers import xapi_statements as xs
from learning.providers.learners import active_plan, ensure_not_future, resolve_course
from learning.providers.models import Provider, XapiMapping, XapiStatement
from yanxiu.kit.errors import DomainError

# Problems that a later event can cure: the teacher's plan, the course, the account link.
WAITING_CODES = frozenset({"learner_not_registered", "course_unresolvable", "xapi_actor_unmapped"})
# A mapping refused with one of these statuses is the statement's outcome, not the request's.
MAPPING_STATUSES = frozenset({400, 403, 404, 409, 422})
ANSWER: dict[str, XapiMapping] = {
    "counted": "counted",
    "already_recorded": "already_recorded",
    "already_counted": "already_counted",
    "held": "held",
}
REMAP_BATCH = 500
DETAIL_MAX = 500


@dataclass(frozen=True)
class Mapping:
    status: XapiMapping
    code: str | None = None
    completion: Recorded | None = None


async def map_statement(
    session: AsyncSession, *, provider: Provider, statement: dict[str, Any], home_page: str
) -> Mapping:
    """Maps one stored completion statement and records the outcome on it."""
    statement_id = uuid.UUID(statement["id"])
    try:
        async with session.begin_nested():
            done = await _complete(
                session, provider=provider, statement=statement, home_page=home_page
            )
    except DomainError as exc:
        if exc.status not in MAPPING_STATUSES:
            raise
        status: XapiMapping = "waiting" if exc.code in WAITING_CODES else "unmappable"
        teacher_id, course_key = _waits_for(statement, home_page)
        await _record(
            session,
            statement_id,
            status=status,
            code=exc.code,
            detail=f"{exc.detail_zh} ({exc.detail_en})"[:DETAIL_MAX],
            teacher_id=teacher_id if status == "waiting" else None,
            course_key=course_key if status == "waiting" else None,
        )
        return Mapping(status, exc.code)
    outcome = ANSWER[done.status]
    await _record(session, statement_id, status=outcome, completion_id=done.completion_id)
    return Mapping(outcome, None, done)


async def map_waiting(
    session: AsyncSession,
    *,
    teacher_ids: Collection[uuid.UUID] = (),
    course_keys: Collection[str] = (),
) -> list[Mapping]:
    """Tries again the waiting statements of these teachers or courses (oldest first; rows
    another transaction is mapping are left to it)."""
    clauses = []
    if teacher_ids:
        clauses.append(XapiStatement.mapping_teacher_id.in_(list(teacher_ids)))
    if course_keys:
        clauses.append(XapiStatement.mapping_course_key.in_(list(course_keys)))
    if not clauses:
        return []
    rows = (
        await session.execute(
            select(XapiStatement.statement, XapiStatement.provider_id)
            .where(
                XapiStatement.mapping == "waiting",
                XapiStatement.voided.is_(False),
                or_(*clauses),
            )
            .order_by(XapiStatement.seq)
            .limit(REMAP_BATCH)
            .with_for_update(skip_locked=True)
        )
    ).all()
    outcomes = []
    for statement, provider_id in rows:
        provider = await session.get(Provider, provider_id)
        assert provider is not None
        # A statement waits by teacher only when its account's home page was the platform's.
        home_page = str((statement["actor"].get("account") or {}).get("homePage", ""))
        outcomes.append(
            await map_statement(
                session, provider=provider, statement=statement, home_page=home_page
            )
        )
    return outcomes


def _waits_for(statement: dict[str, Any], home_page: str) -> tuple[uuid.UUID | None, str | None]:
    """The teacher (when the actor is a platform account) and the course key it waits for."""
    account = statement["actor"].get("account") or {}
    teacher_id = None
    if str(account.get("homePage", "")).rstrip("/") == home_page.rstrip("/"):
        try:
            teacher_id = uuid.UUID(str(account.get("name")))
        except ValueError:
            teacher_id = None
    course_key = str(statement["object"].get("id", "")).rstrip("/").rsplit("/", 1)[-1][:60]
    return teacher_id, course_key or None


async def _record(
    session: AsyncSession,
    statement_id: uuid.UUID,
    *,
    status: XapiMapping,
    code: str | None = None,
    detail: str | None = None,
    completion_id: uuid.UUID | None = None,
    teacher_id: uuid.UUID | None = None,
    course_key: str | None = None,
) -> None:
    await session.execute(
        update(XapiStatement)
        .where(XapiStatement.id == statement_id)
        .values(
            mapping=status,
            mapping_code=code,
            mapping_detail=detail,
            completion_id=completion_id,
            mapping_teacher_id=teacher_id,
            mapping_course_key=course_key,
            mapped_at=datetime.now(UTC),
        )
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
    return done


def _maybe_uuid(value: str) -> uuid.UUID | None:
    try:
        return uuid.UUID(value)
    except ValueError:
        return None
