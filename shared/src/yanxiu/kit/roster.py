"""名册 (roster): who a service holds for a project — teacher, stored org path, status — as one
shape for every service, so that enrollment's reconciliation (核对) and `yanxiu reconcile` can
compare the source's registrations with each consumer's read model.

Two reads, both confined to an org path (the caller's) and cheap at a million teachers:
- digests (`digests_query`): the rows bucketed by the first hex digits of the teacher id (3
  digits: 4,096 buckets, about 250 teachers each at a million), each bucket's member count and
  the XOR of a 64-bit hash of every (teacher id, org path, status) in it. Equal digests mean
  equal rosters (up to a 2^-64 chance; both sides hash with the same PostgreSQL functions). A
  teacher falls in the same bucket on both sides wherever each side holds them, so a row at
  the wrong school shows in one bucket, and only the buckets whose digests differ are read row
  by row;
- a keyset page in teacher-id order (`page_query`), optionally within a teacher-id range (the
  differing buckets): two sides read in the same order merge in one pass, without OFFSET and
  without holding either roster in memory.

The SQL is built here from a service's own columns (`RosterColumns`) and run by that service's
repository against its own schema; nothing here reads another service's tables."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Annotated, Any

from fastapi import Query
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import (
    ColumnElement,
    FromClause,
    Select,
    and_,
    func,
    literal,
    literal_column,
    select,
)
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import QueryableAttribute

from yanxiu.kit.auth import Principal, Role
from yanxiu.kit.bounds import CURSOR_MAX
from yanxiu.kit.errors import Forbidden
from yanxiu.kit.pagination import decode_uuid_cursor, encode_cursor

ACTIVE = "active"
"""The status of a registered teacher's row in a project roster (learning's plan, lessons' pool
member); a service may know others for a member (learning: "departed", a suspended plan)."""
WITHDRAWN = "withdrawn"
"""The status of a row whose registration was withdrawn: history, not a member."""
KNOWN = "known"
"""The status of a teacher roster's rows (credits' teachers), which have no status of their own."""
ROSTER_READERS = (Role.province_admin, Role.city_admin, Role.county_admin)
PAGE_DEFAULT, PAGE_MAX = 1000, 5000
PREFIX_DEFAULT, PREFIX_MAX = 3, 4
"""Hex digits of the teacher id a digest bucket shares (3: 4,096 buckets)."""
_MASK = (1 << 64) - 1


class RosterNotAllowed(Forbidden):
    code = "roster_not_allowed"
    title_zh = "仅省、市、县级管理员可以核对名册"
    title_en = "Only province, city and county admins reconcile rosters"


def ensure_reader(actor: Principal) -> tuple[str, ...]:
    """The caller's org path, the subtree every roster read is confined to."""
    if actor.role not in ROSTER_READERS or not actor.org_path:
        raise RosterNotAllowed()
    return actor.org_path


class RosterEntry(BaseModel):
    """One teacher as a service holds them."""

    model_config = ConfigDict(frozen=True)

    teacher_id: uuid.UUID
    province_id: str
    city_id: str
    county_id: str
    school_id: str
    status: str
    # The registration the row came from, where the service keeps it (learning's plans).
    registration_id: uuid.UUID | None = None

    @property
    def org_path(self) -> tuple[str, str, str, str]:
        return (self.province_id, self.city_id, self.county_id, self.school_id)


class RosterPage(BaseModel):
    items: list[RosterEntry]
    next_cursor: str | None = None


class Digest(BaseModel):
    """The members of one bucket (teacher ids starting with `bucket`) and their digest."""

    model_config = ConfigDict(frozen=True)

    bucket: str = Field(description="the first hex digits of the teacher ids in it")
    teachers: int
    digest: str = Field(description="XOR of the members' 64-bit hashes, 16 hex digits")


class Digests(BaseModel):
    prefix: int
    items: list[Digest]


Prefix = Annotated[int, Query(ge=1, le=PREFIX_MAX, description="hex digits per bucket")]
IdFrom = Annotated[uuid.UUID | None, Query(description="only teacher ids ≥ this")]
IdTo = Annotated[uuid.UUID | None, Query(description="only teacher ids < this")]
PageLimit = Annotated[int, Query(ge=1, le=PAGE_MAX)]
PageCursor = Annotated[str | None, Query(max_length=CURSOR_MAX)]


Column = ColumnElement[Any] | QueryableAttribute[Any]


@dataclass(frozen=True)
class RosterColumns:
    """Where a roster lives in a service's schema. `status=None`: every row is a member, with
    the status `known`; otherwise rows of status `withdrawn` are history, not members, and stay
    out of the digests, while pages show every row, so that a member held in the wrong status
    can be told from one missing."""

    source: FromClause
    teacher_id: Column
    province_id: Column
    city_id: Column
    county_id: Column
    school_id: Column
    status: Column | None = None
    project_id: Column | None = None
    registration_id: Column | None = None

    def status_value(self) -> Column:
        return self.status if self.status is not None else literal(KNOWN)

    def place(self, *, project_id: uuid.UUID | None, scope: Sequence[str]) -> list[Any]:
        """The project's rows whose stored org path lies under `scope`."""
        where: list[Any] = []
        if self.project_id is not None:
            assert project_id is not None, "a project roster is read per project"
            where.append(self.project_id == project_id)
        levels = (self.province_id, self.city_id, self.county_id, self.school_id)
        where += [col == org for col, org in zip(levels, scope, strict=False)]
        return where


def _hash(c: RosterColumns) -> Column:
    """A 64-bit hash of the row: its org path and status, seeded with its teacher id's own
    hash (so that two teachers swapping schools changes the digest). PostgreSQL's extended
    hashes are the ones hash partitioning relies on, stable across versions."""
    place = func.concat_ws("|", c.province_id, c.city_id, c.county_id, c.school_id)
    return func.hashtextextended(
        func.concat_ws("|", place, c.status_value()),
        func.uuid_hash_extended(c.teacher_id, 0),
    )


def _bucket(c: RosterColumns, prefix: int) -> Column:
    """The first `prefix` hex digits of the teacher id, as a number (cheaper to group by than
    text)."""
    # Constants inline, not bound: GROUP BY must repeat the very expression of the select list.
    assert 1 <= prefix <= PREFIX_MAX
    raw = func.uuid_send(c.teacher_id)
    high = func.get_byte(raw, literal_column("0")).op("<<")(literal_column("8"))
    first16 = high.op("|")(func.get_byte(raw, literal_column("1")))
    return first16.op(">>")(literal_column(str(16 - 4 * prefix)))


def digests_query(
    c: RosterColumns, *, project_id: uuid.UUID | None, scope: Sequence[str], prefix: int
) -> Select[Any]:
    """(bucket number, member rows, XOR of their hashes) per teacher-id bucket under
    `scope`."""
    where = c.place(project_id=project_id, scope=scope)
    if c.status is not None:
        where.append(c.status != WITHDRAWN)
    bucket = _bucket(c, prefix)
    return (
        select(bucket, func.count(), func.bit_xor(_hash(c)))
        .select_from(c.source)
        .where(and_(*where))
        .group_by(bucket)
    )


def page_query(
    c: RosterColumns,
    *,
    project_id: uuid.UUID | None,
    scope: Sequence[str],
    id_from: uuid.UUID | None,
    id_to: uuid.UUID | None,
    after: uuid.UUID | None,
    limit: int,
) -> Select[Any]:
    """Up to `limit` rows after teacher `after` (within [id_from, id_to)), in teacher-id order,
    every status."""
    where = c.place(project_id=project_id, scope=scope)
    if id_from is not None:
        where.append(c.teacher_id >= id_from)
    if id_to is not None:
        where.append(c.teacher_id < id_to)
    if after is not None:
        where.append(c.teacher_id > after)
    registration = c.registration_id if c.registration_id is not None else literal(None)
    return (
        select(
            c.teacher_id,
            c.province_id,
            c.city_id,
            c.county_id,
            c.school_id,
            c.status_value(),
            registration,
        )
        .select_from(c.source)
        .where(and_(*where))
        .order_by(c.teacher_id)
        .limit(limit)
    )


def digest_hex(value: int | None) -> str:
    return format((value or 0) & _MASK, "016x")


def digests_of(rows: Sequence[Sequence[Any]], prefix: int) -> list[Digest]:
    return sorted(
        (
            Digest(bucket=f"{b:0{prefix}x}", teachers=int(n), digest=digest_hex(x))
            for b, n, x in rows
        ),
        key=lambda d: d.bucket,
    )


def entries(rows: Sequence[Sequence[Any]]) -> list[RosterEntry]:
    return [
        RosterEntry(
            teacher_id=t,
            province_id=p,
            city_id=ci,
            county_id=co,
            school_id=s,
            status=st,
            registration_id=r,
        )
        for t, p, ci, co, s, st, r in rows
    ]


def page_of(items: list[RosterEntry], limit: int) -> RosterPage:
    """A page from `limit + 1` fetched rows."""
    more = len(items) > limit
    items = items[:limit]
    return RosterPage(
        items=items, next_cursor=encode_cursor(str(items[-1].teacher_id)) if more else None
    )


def after_of(cursor: str | None) -> uuid.UUID | None:
    """A roster's cursor is the last teacher id of the page before."""
    return decode_uuid_cursor(cursor)


async def read_digests(
    session: AsyncSession,
    c: RosterColumns,
    *,
    scope: Sequence[str],
    prefix: int,
    project_id: uuid.UUID | None = None,
) -> list[Digest]:
    """The digests of a service's roster (its own columns, its own session)."""
    stmt = digests_query(c, project_id=project_id, scope=scope, prefix=prefix)
    return digests_of((await session.execute(stmt)).all(), prefix)


async def read_page(
    session: AsyncSession,
    c: RosterColumns,
    *,
    scope: Sequence[str],
    id_from: uuid.UUID | None,
    id_to: uuid.UUID | None,
    after: uuid.UUID | None,
    limit: int,
    project_id: uuid.UUID | None = None,
) -> list[RosterEntry]:
    """Up to `limit` roster rows after teacher `after`, in teacher-id order."""
    stmt = page_query(
        c,
        project_id=project_id,
        scope=scope,
        id_from=id_from,
        id_to=id_to,
        after=after,
        limit=limit,
    )
    return entries((await session.execute(stmt)).all())


async def digests_for(
    session: AsyncSession,
    c: RosterColumns,
    *,
    actor: Principal,
    prefix: int,
    project_id: uuid.UUID | None = None,
) -> Digests:
    """The caller's subtree of the roster as digests (county, city and province admins)."""
    scope = ensure_reader(actor)
    items = await read_digests(session, c, scope=scope, prefix=prefix, project_id=project_id)
    return Digests(prefix=prefix, items=items)


async def page_for(
    session: AsyncSession,
    c: RosterColumns,
    *,
    actor: Principal,
    id_from: uuid.UUID | None,
    id_to: uuid.UUID | None,
    cursor: str | None,
    limit: int,
    project_id: uuid.UUID | None = None,
) -> RosterPage:
    """A page of the caller's subtree of the roster (county, city and province admins)."""
    scope = ensure_reader(actor)
    rows = await read_page(
        session,
        c,
        scope=scope,
        id_from=id_from,
        id_to=id_to,
        after=after_of(cursor),
        limit=limit + 1,
        project_id=project_id,
    )
    return page_of(rows, limit)
