"""学员账号关联 over HTTP (`/xapi/links`, see `xapi_links`): a provider links one of its xAPI
agents to a platform teacher, lists and removes its links. A platform resource kept next to
the LRS: the caller is a provider proven as for the statements resource (signature or Basic
key:secret), with no X-Experience-API-Version header; a key only ever sees its own links."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request, Response
from pydantic import BaseModel, ConfigDict, Field

from learning.providers import xapi_links
from learning.providers.auth import LrsClient
from learning.providers.xapi_api import AUTH_DOC
from yanxiu.kit.audit_api import audited
from yanxiu.kit.deps import Session, runtime
from yanxiu.kit.openapi import operation_id
from yanxiu.kit.pagination import MAX_LIMIT, Page, decode_int_cursor, encode_cursor

router = APIRouter(prefix="/xapi", tags=["xapi"], generate_unique_id_function=operation_id)

AGENT_DOC = (
    "An xAPI Agent with exactly one identifier: mbox, mbox_sha1sum, openid or account "
    "{homePage, name} (objectType and name may be given; they are not kept)"
)
AgentParam = Annotated[
    str, Query(min_length=2, max_length=xapi_links.AGENT_MAX, description=AGENT_DOC + ", as JSON")
]


class AccountLinkIn(BaseModel):
    """学员账号关联: this agent of the provider's is this platform teacher."""

    model_config = ConfigDict(extra="forbid")

    # Checked by xAPI's rules for an Agent (400 xapi_agent_invalid), not by the model.
    agent: Any = Field(description=AGENT_DOC, json_schema_extra={"type": "object"})
    teacher_id: uuid.UUID


class AccountLinkRead(BaseModel):
    agent: dict[str, Any] = Field(description="The agent's identifier, as linked")
    teacher_id: uuid.UUID
    created_at: datetime
    updated_at: datetime

    @classmethod
    def of(cls, link: xapi_links.Link) -> AccountLinkRead:
        return cls(
            agent=link.agent,
            teacher_id=link.teacher_id,
            created_at=link.created_at,
            updated_at=link.updated_at,
        )


class AccountLinkSaved(AccountLinkRead):
    retried: int = Field(description="The agent's waiting completion statements mapped again")
    outcomes: dict[str, int] = Field(
        description="What they became, per status: counted, already_counted, held, "
        "already_recorded, waiting (e.g. the teacher has no plan in the project yet: tried "
        "again when they register) or unmappable"
    )


def _home_page(request: Request) -> str:
    return str(getattr(runtime(request).settings, "xapi_account_home_page", ""))


@router.put(
    "/links",
    response_model=AccountLinkSaved,
    summary="学员账号关联 link one of the provider's agents to a teacher",
    openapi_extra=audited("provider.link_account"),
    description="Says that the agent (as the provider's statements name their actor) is this "
    "platform teacher: one link per agent, a PUT again replaces it; a teacher may have several "
    "agents. The provider's completion statements by that agent that were waiting "
    "(`xapi_actor_unmapped`) are mapped again at once (`retried`, `outcomes`), later ones "
    "count as a teacher account's do. A platform account (account.homePage = the platform's) "
    "is its teacher already: 422 `xapi_link_platform_account`. No X-Experience-API-Version "
    "header is needed." + AUTH_DOC,
)
async def put_link(
    body: AccountLinkIn, request: Request, session: Session, caller: LrsClient
) -> AccountLinkSaved:
    linked = await xapi_links.link(
        session,
        provider=caller.provider,
        agent=xapi_links.agent_of(body.agent),
        teacher_id=body.teacher_id,
        home_page=_home_page(request),
    )
    return AccountLinkSaved(
        **AccountLinkRead.of(linked.link).model_dump(),
        retried=len(linked.outcomes),
        outcomes=linked.counts(),
    )


@router.get(
    "/links",
    response_model=Page[AccountLinkRead],
    summary="学员账号关联 the provider's links",
    description="The caller's links, oldest first: `agent` for one agent's, `teacher_id` for "
    "one teacher's." + AUTH_DOC,
)
async def get_links(
    session: Session,
    caller: LrsClient,
    agent: Annotated[
        str | None,
        Query(min_length=2, max_length=xapi_links.AGENT_MAX, description=AGENT_DOC + ", as JSON"),
    ] = None,
    teacher_id: uuid.UUID | None = None,
    limit: Annotated[int, Query(ge=1, le=MAX_LIMIT)] = 100,
    cursor: Annotated[str | None, Query(max_length=200)] = None,
) -> Page[AccountLinkRead]:
    links, last = await xapi_links.list_links(
        session,
        provider=caller.provider,
        agent=xapi_links.agent_param(agent) if agent is not None else None,
        teacher_id=teacher_id,
        after_id=decode_int_cursor(cursor),
        limit=limit,
    )
    return Page(
        items=[AccountLinkRead.of(link) for link in links],
        next_cursor=encode_cursor(last) if last is not None else None,
    )


@router.delete(
    "/links",
    status_code=204,
    summary="学员账号关联 unlink an agent",
    openapi_extra=audited("provider.unlink_account"),
    description="Removes the agent's link (404 `xapi_account_link_not_found` if it has none). "
    "What its statements counted stays counted; later ones wait again." + AUTH_DOC,
)
async def delete_link(session: Session, caller: LrsClient, agent: AgentParam) -> Response:
    await xapi_links.unlink(session, provider=caller.provider, agent=xapi_links.agent_param(agent))
    return Response(status_code=204)
