"""学员账号关联 (account links): a provider says that one of its xAPI agents is a platform
teacher, so that completion statements by an actor that is no platform account can count. A
link is the provider's own (one per agent); making it maps again the provider's statements by
that agent that were waiting (`xapi_mapping.map_linked`); removing it undoes nothing that was
counted. Links are audited: they decide whose hours a provider's statements add to, and unlike
statements they change and go without leaving a trace of their own."""

from __future__ import annotations

import uuid
from collections import Counter
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import orjson
from sqlalchemy import delete, func, select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from learning.audit import AUDIT
from learning.providers import xapi_index, xapi_mapping
from learning.providers import xapi_statements as xs
from learning.providers import xapi_validation as xv
from learning.providers.errors import (
    XapiAccountLinkNotFound,
    XapiAgentInvalid,
    XapiLinkPlatformAccount,
    XapiStatementInvalid,
)
from learning.providers.models import Provider, XapiAccountLink
from yanxiu.kit.auth import Principal, Role

AGENT_MAX = 4096  # the identifier as canonical JSON, and the `agent` query parameter


@dataclass(frozen=True)
class Agent:
    """An Agent's one identifier (IFI), as canonical JSON and as the key statements carry."""

    identifier: dict[str, Any]
    text: str
    key: str

    @property
    def kind(self) -> str:
        return next(iter(self.identifier))


@dataclass(frozen=True)
class Link:
    agent: dict[str, Any]
    teacher_id: uuid.UUID
    created_at: datetime
    updated_at: datetime

    @classmethod
    def of(cls, row: XapiAccountLink) -> Link:
        return cls(orjson.loads(row.agent), row.teacher_id, row.created_at, row.updated_at)


@dataclass(frozen=True)
class Linked:
    """A link made, and what the agent's waiting statements became when mapped again."""

    link: Link
    outcomes: list[xapi_mapping.Mapping]

    def counts(self) -> dict[str, int]:
        return dict(Counter(m.status for m in self.outcomes))


def agent_of(value: Any, path: str = "agent") -> Agent:
    """An xAPI Agent with exactly one identifier (400 `xapi_agent_invalid` otherwise)."""
    try:
        xv.agent(value, path)
    except XapiStatementInvalid as exc:
        raise XapiAgentInvalid(exc.detail_zh, exc.detail_en, **exc.extra) from exc
    identifier = {k: value[k] for k in xapi_index.IFIS if k in value}
    text = xapi_index.agent_key(identifier)
    if len(text) > AGENT_MAX:
        raise XapiAgentInvalid(
            f"{path}：标识过长（最多 {AGENT_MAX} 字符）",
            f"{path}: the identifier is longer than {AGENT_MAX} characters",
        )
    return Agent(identifier, text, xapi_index.hashed(text))


def agent_param(raw: str) -> Agent:
    """The `agent` query parameter: an Agent as JSON."""
    try:
        value = orjson.loads(raw)
    except orjson.JSONDecodeError as exc:
        raise XapiAgentInvalid(
            "agent 须为 JSON 格式的 Agent", "agent must be an Agent as JSON"
        ) from exc
    return agent_of(value)


def _as_actor(provider: Provider) -> Principal:
    """The provider as the audit trail's actor (it signs with its key, it has no user)."""
    return Principal(
        user_id=f"provider:{provider.code}",
        role=Role.provider,
        org_path=(provider.province_id,),
        name=provider.name,
    )


async def link(
    session: AsyncSession,
    *,
    provider: Provider,
    agent: Agent,
    teacher_id: uuid.UUID,
    home_page: str,
) -> Linked:
    """Links the agent to the teacher (replacing its link, if any), then maps again the
    provider's waiting statements by that agent. A platform account needs no link."""
    if xs.is_platform_account(agent.identifier, home_page):
        raise XapiLinkPlatformAccount()
    before = await session.scalar(
        select(XapiAccountLink.teacher_id)
        .where(XapiAccountLink.provider_id == provider.id, XapiAccountLink.agent_key == agent.key)
        .with_for_update()
    )
    saved = (
        await session.execute(
            insert(XapiAccountLink)
            .values(
                provider_id=provider.id,
                agent_key=agent.key,
                agent=agent.text,
                teacher_id=teacher_id,
            )
            .on_conflict_do_update(
                index_elements=[XapiAccountLink.provider_id, XapiAccountLink.agent_key],
                set_={"teacher_id": teacher_id, "updated_at": func.now()},
            )
            .returning(XapiAccountLink)
            .execution_options(populate_existing=True)
        )
    ).scalar_one()
    made = Link.of(saved)
    if before != teacher_id:
        await AUDIT.record(
            session,
            actor=_as_actor(provider),
            action="provider.link_account",
            target_type="teacher",
            target_id=str(teacher_id),
            target_org=[provider.province_id],
            # The identifier's kind and key, not its value (an e-mail address, say).
            before={"teacher_id": before} if before is not None else None,
            after={"agent_key": agent.key, "identifier": agent.kind, "teacher_id": teacher_id},
        )
    outcomes = await xapi_mapping.map_linked(session, provider_id=provider.id, agent_key=agent.key)
    return Linked(made, outcomes)


async def unlink(session: AsyncSession, *, provider: Provider, agent: Agent) -> None:
    """Removes the agent's link; its statements counted so far stay counted."""
    removed = (
        await session.execute(
            delete(XapiAccountLink)
            .where(
                XapiAccountLink.provider_id == provider.id, XapiAccountLink.agent_key == agent.key
            )
            .returning(XapiAccountLink.teacher_id)
        )
    ).scalar_one_or_none()
    if removed is None:
        raise XapiAccountLinkNotFound()
    await AUDIT.record(
        session,
        actor=_as_actor(provider),
        action="provider.unlink_account",
        target_type="teacher",
        target_id=str(removed),
        target_org=[provider.province_id],
        before={"agent_key": agent.key, "identifier": agent.kind, "teacher_id": removed},
    )


async def list_links(
    session: AsyncSession,
    *,
    provider: Provider,
    agent: Agent | None,
    teacher_id: uuid.UUID | None,
    after_id: int | None,
    limit: int,
) -> tuple[list[Link], int | None]:
    """The provider's links, oldest first (one agent's, or one teacher's); with the last id
    when there are more."""
    query = select(XapiAccountLink).where(XapiAccountLink.provider_id == provider.id)
    if agent is not None:
        query = query.where(XapiAccountLink.agent_key == agent.key)
    if teacher_id is not None:
        query = query.where(XapiAccountLink.teacher_id == teacher_id)
    if after_id is not None:
        query = query.where(XapiAccountLink.id > after_id)
    rows = list(
        (await session.execute(query.order_by(XapiAccountLink.id).limit(limit + 1))).scalars()
    )
    more = rows[limit - 1].id if len(rows) > limit else None
    return [Link.of(r) for r in rows[:limit]], more
