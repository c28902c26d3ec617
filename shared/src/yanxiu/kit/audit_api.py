"""审计日志查询: `GET /audit` over a service's audit trail (yanxiu.kit.audit), and the mark an
audited write route carries (`openapi_extra=audited("teacher.transfer")`).

Who reads what: a province admin its province's entries (and the platform's own, which have
no org); a city or county admin the entries whose record lies in its subtree (an entry
without a record org is placed by its actor's org); everyone else is refused. Newest first,
cursor-paginated, filtered by action, target, actor and time."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Query
from pydantic import BaseModel, ConfigDict
from sqlalchemy import Select, Table, func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from yanxiu.kit.auth import Principal, Role
from yanxiu.kit.bounds import Moment
from yanxiu.kit.deps import CurrentUser, Session
from yanxiu.kit.errors import Forbidden
from yanxiu.kit.openapi import operation_id
from yanxiu.kit.pagination import MAX_LIMIT, Page, decode_int_cursor, next_cursor
from yanxiu.kit.tables import audit_scope, audit_scope_level

AUDIT_ACTION = "x-audit-action"
"""The OpenAPI extension naming the audit action a write route records."""

SHANGHAI = ZoneInfo("Asia/Shanghai")
READERS = (Role.province_admin, Role.city_admin, Role.county_admin)
Text = Annotated[str | None, Query(min_length=1, max_length=200)]
Cursor = Annotated[str | None, Query(max_length=200)]
Limit = Annotated[int, Query(ge=1, le=MAX_LIMIT)]


def audited(action: str) -> dict[str, Any]:
    """`openapi_extra` of a route whose use case records `action` in the audit trail; a test
    walks every service's OpenAPI and fails on a write that neither declares one nor is
    exempt."""
    return {AUDIT_ACTION: action}


class AuditNotAllowed(Forbidden):
    code = "audit_not_allowed"
    title_zh = "仅省、市、县级管理员可以查看审计日志"
    title_en = "Only province, city and county admins read the audit trail"


class AuditEntryRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    at: datetime
    actor_id: str
    actor_role: str
    actor_org: list[str]
    action: str
    target_type: str
    target_id: str | None
    target_org: list[str] | None
    before: dict[str, Any] | None
    after: dict[str, Any] | None
    request_id: str | None


def _aware(moment: datetime | None) -> datetime | None:
    """A time without a zone is read as Beijing time, the zone the platform shows times in."""
    if moment is not None and moment.tzinfo is None:
        return moment.replace(tzinfo=SHANGHAI)
    return moment


def scoped(table: Table, actor: Principal) -> Select[Any]:
    """The entries `actor` may read. A city or county is found through its own index
    (`kit.tables.audit_table`); the whole path is compared as well, so an id repeated in
    another branch of the tree could never match."""
    if actor.role not in READERS or not actor.org_path:
        raise AuditNotAllowed()
    path = list(actor.org_path)
    scope = audit_scope(table)
    query = select(table)
    if actor.role == Role.province_admin:
        # Entries of the platform itself (no org at all) belong to no region: the province's.
        return query.where(or_(scope[1:1] == path, func.cardinality(scope) == 0))
    depth = len(path)
    return query.where(audit_scope_level(table, depth) == path[-1], scope[1:depth] == path)


async def list_entries(
    session: AsyncSession,
    table: Table,
    *,
    actor: Principal,
    action: str | None = None,
    target_type: str | None = None,
    target_id: str | None = None,
    actor_id: str | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
    cursor: str | None = None,
    limit: int = 100,
) -> Page[AuditEntryRead]:
    query = scoped(table, actor)
    c = table.c
    for column, value in (
        (c.action, action),
        (c.target_type, target_type),
        (c.target_id, target_id),
        (c.actor_id, actor_id),
    ):
        if value is not None:
            query = query.where(column == value)
    if (start := _aware(since)) is not None:
        query = query.where(c.at >= start)
    if (end := _aware(until)) is not None:
        query = query.where(c.at < end)
    after = decode_int_cursor(cursor)
    if after is not None:
        query = query.where(c.id < after)
    rows = (await session.execute(query.order_by(c.id.desc()).limit(limit + 1))).all()
    return Page[AuditEntryRead](
        items=[AuditEntryRead.model_validate(r._mapping) for r in rows[:limit]],
        next_cursor=next_cursor([r.id for r in rows], limit),
    )


def audit_router(table: Table, *, prefix: str = "", tag: str = "audit") -> APIRouter:
    """`GET {prefix}/audit` over `table` (a service's `audit_log`)."""
    router = APIRouter(prefix=prefix, tags=[tag], generate_unique_id_function=operation_id)

    @router.get(
        "/audit",
        response_model=Page[AuditEntryRead],
        summary="审计日志 the audit trail (province; a city or county: its own subtree)",
        description="Newest first. `since` (inclusive) and `until` (exclusive) without a zone "
        "are Beijing time.",
    )
    async def list_audit(
        session: Session,
        user: CurrentUser,
        action: Text = None,
        target_type: Text = None,
        target_id: Text = None,
        actor_id: Text = None,
        since: Moment | None = None,
        until: Moment | None = None,
        cursor: Cursor = None,
        limit: Limit = 100,
    ) -> Page[AuditEntryRead]:
        return await list_entries(
            session,
            table,
            actor=user,
            action=action,
            target_type=target_type,
            target_id=target_id,
            actor_id=actor_id,
            since=since,
            until=until,
            cursor=cursor,
            limit=limit,
        )

    return router
