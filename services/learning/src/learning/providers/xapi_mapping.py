"""Store first, map after (学习记录映射): a completion statement is stored like every valid
statement; then, in the same transaction but behind a savepoint, it is turned into learning — a
teacher's completion of a course in a project, counted once per course. What it became is kept on
the statement (`mapping`, with the problem code when it did not count):

- counted, already_counted, held, already_recorded: attainment's answer;
- waiting: the teacher has no plan in the project yet, the course is not in the catalogue yet,
  or the actor is not (yet) a teacher account; tried again when the teacher registers for a
  project or the course is added (`map_waiting`), or when the provider links the actor to a
  teacher (`map_linked`);
- unmappable: the statement itself can never count (no project, dated in the future or outside
  the learning window, unusable hours or category).

An actor that is not a platform account is the teacher the provider linked it to (学员账号关联,
`xapi_links`); a link wins over the account rule, and a platform account cannot be linked.

A mapping that fails leaves nothing behind (the savepoint is rolled back) and never refuses the
statement: providers read the outcome in `GET /xapi/mappings`.
"""

from __future__ import annotations

import uuid
from collections.abc import Collection
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import ColumnElement, and_, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from learning.attainment import service as attainment
from learning.attainment.facts import Recorded
from learning.providers import xapi_index
from learning.providers import xapi_statements as xs
from learning.providers.learners import active_plan, ensure_not_future, resolve_course
from learning.providers.models import Provider, XapiAccountLink, XapiMapping, XapiStatement
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
    linked = await linked_teacher(session, provider_id=provider.id, agent=statement["actor"])
    try:
        async with session.begin_nested():
            done = await _complete(
                session, provider=provider, statement=statement, home_page=home_page, linked=linked
            )
    except DomainError as exc:
        if exc.status not in MAPPING_STATUSES:
            raise
        status: XapiMapping = "waiting" if exc.code in WAITING_CODES else "unmappable"
        teacher_id, course_key = _waits_for(statement, home_page, linked)
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


async def linked_teacher(
    session: AsyncSession, *, provider_id: uuid.UUID, agent: dict[str, Any]
) -> uuid.UUID | None:
    """The teacher the provider linked this agent to (学员账号关联), if it did; a Group is
    nobody's account."""
    if agent.get("objectType") == "Group":
        return None
    ifi = {k: agent[k] for k in xapi_index.IFIS if k in agent}
    if not ifi:
        return None
    found: uuid.UUID | None = await session.scalar(
        select(XapiAccountLink.teacher_id).where(
            XapiAccountLink.provider_id == provider_id,
            XapiAccountLink.agent_key == xapi_index.hashed(xapi_index.agent_key(ifi)),
        )
    )
    return found


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
    outcomes, _ = await _retry(session, or_(*clauses))
    return outcomes


async def map_linked(
    session: AsyncSession, *, provider_id: uuid.UUID, agent_key: str
) -> list[Mapping]:
    """Tries again every waiting statement of the provider's by this agent (`xapi_index`'s
    hashed key, as `actor_key`): the provider has just linked it to a teacher."""
    outcomes: list[Mapping] = []
    after = 0
    while True:
        batch, last = await _retry(
            session,
            and_(
                XapiStatement.provider_id == provider_id,
                XapiStatement.actor_key == agent_key,
                XapiStatement.seq > after,
            ),
        )
        outcomes += batch
        if last is None:
            return outcomes
        after = last


async def _retry(
    session: AsyncSession, condition: ColumnElement[bool]
) -> tuple[list[Mapping], int | None]:
    """Maps again one batch of the waiting statements that meet `condition` (oldest first;
    rows another transaction is mapping are left to it); the batch's last seq when it was
    full (there may be more)."""
    rows = (
        await session.execute(
            select(XapiStatement.seq, XapiStatement.statement, XapiStatement.provider_id)
            .where(
                XapiStatement.mapping == "waiting",
                XapiStatement.voided.is_(False),
                condition,
            )
            .order_by(XapiStatement.seq)
            .limit(REMAP_BATCH)
            .with_for_update(skip_locked=True)
        )
    ).all()
    outcomes = []
    for _, statement, provider_id in rows:
        provider = await session.get(Provider, provider_id)
        assert provider is not None
        # Mapped against the platform's home page as it was stored with the statement, never
        # the actor's own (another site's account named like a teacher id is no teacher).
        outcomes.append(
            await map_statement(
                session,
                provider=provider,
                statement=statement,
                home_page=xs.home_page_of(statement),
            )
        )
    return outcomes, rows[-1].seq if len(rows) == REMAP_BATCH else None


def _waits_for(
    statement: dict[str, Any], home_page: str, linked: uuid.UUID | None = None
) -> tuple[uuid.UUID | None, str | None]:
    """The teacher (the one the actor is linked to, or the platform account's) and the course
    key it waits for."""
    account = statement["actor"].get("account") or {}
    teacher_id = linked
    if teacher_id is None and xs.is_platform_account(statement["actor"], home_page):
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
    session: AsyncSession,
    *,
    provider: Provider,
    statement: dict[str, Any],
    home_page: str,
    linked: uuid.UUID | None,
) -> Recorded:
    facts = xs.completion_facts(
        statement,
        home_page=home_page,
        completed_at=xs.parse_time(statement["timestamp"], "statement.timestamp"),
        teacher_id=linked,
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
