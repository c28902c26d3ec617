"""死信处理: the province operator's view of a service's dead-letter topic (yanxiu.kit.dlq).

    GET  /dlq                          list (waiting ones unless status=all), newest first
    GET  /dlq/{partition}/{offset}     one, with its headers and the message itself
    POST /dlq/replay                   send chosen ones back to their source topic
    POST /dlq/drop                     settle chosen ones without sending them (a reason given)

Only a province admin: a dead letter is the platform's, not a region's, and its payload may
hold any teacher's data. Replays and drops are audited. The same operations are
`yanxiu dlq list | show | replay | drop` on the command line (stack.dlq)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Path, Query
from pydantic import BaseModel, Field, StringConstraints
from sqlalchemy import Table
from sqlalchemy.ext.asyncio import AsyncSession

from yanxiu.kit.audit import AuditTrail
from yanxiu.kit.audit_api import audited
from yanxiu.kit.auth import Principal, Role
from yanxiu.kit.bounds import Moment
from yanxiu.kit.deps import CurrentUser, Session, runtime_dependency
from yanxiu.kit.dlq import DeadLetter, DeadLetters, Filter
from yanxiu.kit.errors import Forbidden, NotFound
from yanxiu.kit.openapi import operation_id
from yanxiu.kit.pagination import MAX_LIMIT, Page, decode_int_cursor, encode_cursor

# The service's runtime (settings, producer, name); typed loosely, as importing the app's
# Runtime here would be circular.
RuntimeDep = Annotated[Any, Depends(runtime_dependency)]


class DlqNotAllowed(Forbidden):
    code = "dlq_not_allowed"
    title_zh = "仅省级管理员可以处理死信"
    title_en = "Only the province's admins handle dead letters"


class DeadLetterNotFound(NotFound):
    code = "dead_letter_not_found"
    title_zh = "死信不存在"
    title_en = "No such dead letter"


class DeadLetterRead(BaseModel):
    partition: int
    offset: int
    at: datetime
    event_type: str
    consumer: str
    error: str
    source_topic: str | None
    source_partition: int | None
    source_offset: int | None
    attempts: int | None
    key: str | None
    status: Literal["waiting", "replayed", "dropped"]
    settled_by: str | None
    reason: str | None


class DeadLetterDetail(DeadLetterRead):
    headers: dict[str, str]
    payload: Any


class DeadLetterRef(BaseModel):
    partition: int = Field(ge=0, le=100_000)
    offset: int = Field(ge=0, lt=2**63)


class ReplayRequest(BaseModel):
    items: list[DeadLetterRef] = Field(min_length=1, max_length=100)


class DropRequest(ReplayRequest):
    reason: str = Field(min_length=1, max_length=500, description="为何丢弃 why it is dropped")


class Settled(BaseModel):
    done: int = Field(description="how many were replayed or dropped")
    missing: list[DeadLetterRef] = Field(description="those the topic does not hold")


Text = Annotated[str | None, Query(min_length=1, max_length=200)]
EventType = Annotated[str, StringConstraints(min_length=1, max_length=200)]


def operator(user: Principal) -> Principal:
    if user.role != Role.province_admin:
        raise DlqNotAllowed()
    return user


def dlq_router(table: Table, audit_log: Table | None) -> APIRouter:
    """The routes over a service's dead letters, `table` being its `dlq_dispositions`."""
    router = APIRouter(tags=["dead letters"], generate_unique_id_function=operation_id)
    audit = AuditTrail(audit_log) if audit_log is not None else None

    def letters_of(rt: Any) -> DeadLetters:
        return DeadLetters(settings=rt.settings, service=rt.spec.name, table=table)

    @router.get(
        "/dlq",
        response_model=Page[DeadLetterRead],
        summary="死信列表 dead letters of this service (province admins)",
        description="Newest first; settled ones (replayed, dropped) only with `status=all`. "
        "`error` matches a piece of the error, ignoring case.",
    )
    async def list_dead_letters(
        session: Session,
        user: CurrentUser,
        rt: RuntimeDep,
        type: Annotated[list[EventType] | None, Query(max_length=20)] = None,
        consumer: Text = None,
        error: Text = None,
        since: Moment | None = None,
        until: Moment | None = None,
        status: Literal["waiting", "all"] = "waiting",
        cursor: Annotated[str | None, Query(max_length=200)] = None,
        limit: Annotated[int, Query(ge=1, le=MAX_LIMIT)] = 100,
    ) -> Page[DeadLetterRead]:
        operator(user)
        where = Filter(
            types=frozenset(type or ()),
            consumer=consumer,
            error=error,
            since=since,
            until=until,
            settled=status == "all",
        )
        found = await letters_of(rt).read(session, where)
        start = decode_int_cursor(cursor) or 0
        page = found[start : start + limit]
        more = start + limit < len(found)
        return Page[DeadLetterRead](
            items=[DeadLetterRead(**x.summary()) for x in page],
            next_cursor=encode_cursor(start + limit) if more else None,
        )

    @router.get(
        "/dlq/{partition}/{offset}",
        response_model=DeadLetterDetail,
        summary="一条死信 one dead letter, with the message (province admins)",
    )
    async def get_dead_letter(
        session: Session,
        user: CurrentUser,
        rt: RuntimeDep,
        partition: Annotated[int, Path(ge=0, le=100_000)],
        offset: Annotated[int, Path(ge=0, lt=2**63)],
    ) -> DeadLetterDetail:
        operator(user)
        letter = await letters_of(rt).find(session, partition, offset)
        if letter is None:
            raise DeadLetterNotFound()
        return DeadLetterDetail(
            **letter.summary(),
            headers={k: v.decode("utf-8", "replace") for k, v in letter.headers},
            payload=letter.payload(),
        )

    async def chosen(
        session: AsyncSession, rt: Any, refs: list[DeadLetterRef]
    ) -> tuple[list[DeadLetter], list[DeadLetterRef]]:
        held = await letters_of(rt).find_many(session, [(r.partition, r.offset) for r in refs])
        found = [held[(r.partition, r.offset)] for r in refs if (r.partition, r.offset) in held]
        missing = [r for r in refs if (r.partition, r.offset) not in held]
        return found, missing

    @router.post(
        "/dlq/replay",
        response_model=Settled,
        summary="重放死信 send dead letters back to their source topic (province admins)",
        description="Each goes back with its original key, value and headers, and is marked "
        "replayed. One the consumer handled already is dropped by its inbox.",
        openapi_extra=audited("dlq.replay"),
    )
    async def replay_dead_letters(
        body: ReplayRequest, session: Session, user: CurrentUser, rt: RuntimeDep
    ) -> Settled:
        operator(user)
        found, missing = await chosen(session, rt, body.items)
        done = await letters_of(rt).replay(session, found, producer=rt.producer, actor=user.user_id)
        _audit(audit, session, user, "dlq.replay", found, reason=None)
        return Settled(done=done, missing=missing)

    @router.post(
        "/dlq/drop",
        response_model=Settled,
        summary="丢弃死信 settle dead letters without sending them (province admins)",
        openapi_extra=audited("dlq.drop"),
    )
    async def drop_dead_letters(
        body: DropRequest, session: Session, user: CurrentUser, rt: RuntimeDep
    ) -> Settled:
        operator(user)
        found, missing = await chosen(session, rt, body.items)
        done = await letters_of(rt).drop(session, found, actor=user.user_id, reason=body.reason)
        _audit(audit, session, user, "dlq.drop", found, reason=body.reason)
        return Settled(done=done, missing=missing)

    return router


def _audit(
    audit: AuditTrail | None,
    session: AsyncSession,
    user: Principal,
    action: str,
    letters: list[DeadLetter],
    *,
    reason: str | None,
) -> None:
    if audit is None:
        return
    for letter in letters:
        audit.add(
            session,
            actor=user,
            action=action,
            target_type="dead_letter",
            target_id=f"{letter.partition}:{letter.offset}",
            after={"event_type": letter.event_type, "reason": reason},
        )
