"""Reading a provider's statements a page at a time (the SQL of `GET /xapi/statements`).

A page is one SQL statement: index ranges (`xapi_index`) — the statements matching the filters (an
agent's as actor and as object: two ranges), and the statements voiding one that matches
(§2.1.4: the voided statement is left out, what voids it is returned) — each cut at the page
size, merged and cut again. The statements come back as the JSON text PostgreSQL keeps, so that
a page in the exact format is answered without decoding and encoding each statement again. The
SQL text for each combination of filters is built once."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

import orjson
from sqlalchemy import TextClause, text
from sqlalchemy.ext.asyncio import AsyncSession

from learning.providers import xapi_index
from learning.providers.xapi_filters import StatementQuery

TABLE = "learning.xapi_statements"


@dataclass(frozen=True)
class StatementsPage:
    """The page's statements as stored JSON text, newest first unless ascending, and the last
    one's sequence when more follow (the `more` cursor)."""

    statements: list[str]
    last_seq: int | None

    def decoded(self) -> list[dict[str, Any]]:
        return [orjson.loads(s) for s in self.statements]


@dataclass(frozen=True)
class _Shape:
    """Which filters a query has: the key of its SQL text."""

    verb: bool
    registration: bool
    agent: bool
    related_agents: bool
    activity: bool
    related_activities: bool
    since: bool
    until: bool
    after: bool
    ascending: bool


def _matches(shape: _Shape, row: str, agent_as: str | None = None) -> list[str]:
    """What the statement itself must match, on its indexed keys. The agent is the actor or
    the object: `agent_as` picks one column (each is an index range in seq order), else both."""
    clauses = []
    if shape.verb:
        clauses.append(f"{row}.verb_id = :verb")
    if shape.registration:
        clauses.append(f"{row}.registration = :registration")
    if shape.agent:
        clauses.append(
            f"{row}.related_agents @> ARRAY[CAST(:agent AS varchar)]"
            if shape.related_agents
            else f"{row}.{agent_as} = :agent"
            if agent_as
            else f"({row}.actor_key = :agent OR {row}.object_key = :agent)"
        )
    if shape.activity:
        clauses.append(
            f"{row}.related_activities @> ARRAY[CAST(:activity AS varchar)]"
            if shape.related_activities
            else f"{row}.object_key = :activity"
        )
    return clauses


@lru_cache(maxsize=256)
def _sql(shape: _Shape) -> TextClause:
    order = "ASC" if shape.ascending else "DESC"
    base = ["s.provider_id = :provider", "NOT s.voided"]
    if shape.since:
        base.append("s.stored > :since")
    if shape.until:
        base.append("s.stored <= :until")
    if shape.after:
        base.append(f"s.seq {'>' if shape.ascending else '<'} :after")
    matching = _matches(shape, "s")
    # An agent as actor or as object: two ranges, each read in order and cut at the page size
    # (an OR would read every statement of the agent and sort them). A statement in both is
    # one statement: the outer IN takes each sequence once.
    sides = ["actor_key", "object_key"] if shape.agent and not shape.related_agents else [None]
    ranges = [
        f"(SELECT s.seq FROM {TABLE} s WHERE {' AND '.join(base + _matches(shape, 's', side))} "
        f"ORDER BY s.seq {order} LIMIT :fetch)"
        for side in sides
    ]
    if matching:
        target = " AND ".join(
            ["t.id = s.voids_id", "t.provider_id = :provider", "t.voided", *_matches(shape, "t")]
        )
        voiding = " AND ".join([*base, "s.voids_id IS NOT NULL"])
        ranges.append(
            f"(SELECT s.seq FROM {TABLE} s WHERE {voiding} AND EXISTS "
            f"(SELECT 1 FROM {TABLE} t WHERE {target}) ORDER BY s.seq {order} LIMIT :fetch)"
        )
    return text(
        f"SELECT s.seq, s.statement::text AS statement FROM {TABLE} s "
        f"WHERE s.seq IN ({' UNION ALL '.join(ranges)}) ORDER BY s.seq {order} LIMIT :fetch"
    )


async def page(
    session: AsyncSession, *, provider_id: uuid.UUID, query: StatementQuery, after_seq: int | None
) -> StatementsPage:
    """The caller's statements matching the query, voided statements left out."""
    shape = _Shape(
        verb=query.verb is not None,
        registration=query.registration is not None,
        agent=query.agent is not None,
        related_agents=query.related_agents,
        activity=query.activity is not None,
        related_activities=query.related_activities,
        since=query.since is not None,
        until=query.until is not None,
        after=after_seq is not None,
        ascending=query.ascending,
    )
    params: dict[str, Any] = {"provider": provider_id, "fetch": query.limit + 1}
    if query.verb is not None:
        params["verb"] = query.verb
    if query.registration is not None:
        params["registration"] = uuid.UUID(query.registration)
    if query.agent is not None:
        params["agent"] = xapi_index.hashed(xapi_index.agent_key(query.agent))
    if query.activity is not None:
        params["activity"] = xapi_index.hashed(query.activity)
    if query.since is not None:
        params["since"] = query.since
    if query.until is not None:
        params["until"] = query.until
    if after_seq is not None:
        params["after"] = after_seq
    rows = (await session.execute(_sql(shape), params)).all()
    more = rows[query.limit - 1].seq if len(rows) > query.limit else None
    return StatementsPage([r.statement for r in rows[: query.limit]], more)
