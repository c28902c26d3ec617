"""What is compared: each consumer's roster beside the roster enrollment says it should hold,
how either is read (`Roster`: digests per teacher-id bucket, pages in teacher-id order), and a
stream's check (`Check`: digests compared, the drift read where they differ)."""

from __future__ import annotations

import uuid
from collections.abc import AsyncGenerator, Callable, Sequence
from contextlib import aclosing
from dataclasses import dataclass
from typing import Protocol

from sqlalchemy.ext.asyncio import AsyncSession

from enrollment.reconcile import repository as repo
from enrollment.reconcile.compare import Drift, IdRange, differing_buckets, merge, ranges
from yanxiu.kit.roster import Digest, RosterColumns, RosterEntry

WALK_PAGE = 2000


class Roster(Protocol):
    """One side of a comparison, already bound to a project (where it has one) and a scope."""

    async def digests(self, *, prefix: int) -> list[Digest]: ...

    async def page(
        self,
        *,
        id_from: uuid.UUID | None,
        id_to: uuid.UUID | None,
        after: uuid.UUID | None,
        limit: int,
    ) -> list[RosterEntry]: ...


@dataclass(frozen=True)
class Stream:
    """A consumer's read model of enrollment's facts, and what enrollment says it should be."""

    service: str
    label_zh: str
    label_en: str
    expected: RosterColumns
    per_project: bool


STREAMS = (
    Stream("learning", "学习计划", "learning plans", repo.REGISTERED_EXPECTED, per_project=True),
    Stream("lessons", "观评课评审库", "review pools", repo.REGISTERED_EXPECTED, per_project=True),
    # The dashboards count the registered teachers where enrollment says they are.
    Stream("insights", "看板报名", "dashboards' registrations", repo.REGISTERED_EXPECTED, True),
    # Credits knows every teacher, registered or not: its roster is not the project's.
    Stream("credits", "学分登记教师", "credits' teachers", repo.TEACHERS_EXPECTED, False),
)

Consumers = Callable[[Stream], Roster]
"""The consumer side of each stream, for one project and scope: over HTTP with the admin's
token (the endpoint), or from the database (`yanxiu reconcile`)."""


def prefix_for(scope: Sequence[str]) -> int:
    """Hex digits per bucket: 4,096 buckets for a province (about 250 of a million teachers
    each) or the whole platform, 256 for a city or county (a few hundred, or tens, each)."""
    return 3 if len(scope) <= 1 else 2


@dataclass
class SourceRoster:
    """Enrollment's side: the roster a consumer should hold, from enrollment's own tables."""

    session: AsyncSession
    columns: RosterColumns
    project_id: uuid.UUID | None
    scope: Sequence[str]

    async def digests(self, *, prefix: int) -> list[Digest]:
        return await repo.digests(
            self.session, self.columns, project_id=self.project_id, scope=self.scope, prefix=prefix
        )

    async def page(
        self,
        *,
        id_from: uuid.UUID | None,
        id_to: uuid.UUID | None,
        after: uuid.UUID | None,
        limit: int,
    ) -> list[RosterEntry]:
        return await repo.page(
            self.session,
            self.columns,
            project_id=self.project_id,
            scope=self.scope,
            id_from=id_from,
            id_to=id_to,
            after=after,
            limit=limit,
        )


def source_roster(
    session: AsyncSession, stream: Stream, *, project_id: uuid.UUID, scope: Sequence[str]
) -> SourceRoster:
    return SourceRoster(session, stream.expected, project_id if stream.per_project else None, scope)


async def walk(
    roster: Roster, span: IdRange, *, after: uuid.UUID | None, page: int = WALK_PAGE
) -> AsyncGenerator[RosterEntry, None]:
    """Every entry of the id range after teacher `after`, in teacher-id order, a page at a
    time."""
    while True:
        rows = await roster.page(id_from=span[0], id_to=span[1], after=after, limit=page)
        for row in rows:
            yield row
        if len(rows) < page:
            return
        after = rows[-1].teacher_id


@dataclass
class Check:
    """One stream under one scope: its digests compared, and how to read its drift."""

    stream: Stream
    expected: Roster
    found: Roster
    expected_total: int
    found_total: int
    buckets: list[str]
    """The teacher-id buckets whose digests differ."""

    async def drifts(self, after: uuid.UUID | None = None) -> AsyncGenerator[Drift, None]:
        """The drifted teachers after `after`, in teacher-id order, read only in the id ranges
        whose digests differ."""
        for span in ranges(self.buckets):
            if after is not None and span[1] is not None and span[1] <= after:
                continue
            merged = merge(
                walk(self.expected, span, after=after), walk(self.found, span, after=after)
            )
            async with aclosing(merged) as drifts:
                async for drift in drifts:
                    yield drift


def check(
    stream: Stream, expected: Roster, found: Roster, *, ours: list[Digest], theirs: list[Digest]
) -> Check:
    return Check(
        stream=stream,
        expected=expected,
        found=found,
        expected_total=sum(d.teachers for d in ours),
        found_total=sum(d.teachers for d in theirs),
        buckets=differing_buckets(ours, theirs),
    )


async def checks(
    session: AsyncSession, *, project_id: uuid.UUID, scope: Sequence[str], consumers: Consumers
) -> list[Check]:
    """Each stream's digests, both sides. Streams expecting the same roster (learning's plans
    and lessons' pools: the registrations) share one read of enrollment's."""
    prefix = prefix_for(scope)
    ours: dict[tuple[int, bool], list[Digest]] = {}
    out = []
    for s in STREAMS:
        expected = source_roster(session, s, project_id=project_id, scope=scope)
        key = (id(s.expected), s.per_project)
        if key not in ours:
            ours[key] = await expected.digests(prefix=prefix)
        found = consumers(s)
        theirs = await found.digests(prefix=prefix)
        out.append(check(s, expected, found, ours=ours[key], theirs=theirs))
    return out
