"""xAPI 1.0.3 document resources over HTTP: `/xapi/activities/state`, `/xapi/activities/profile`,
`/xapi/agents/profile`, `/xapi/activities` and `/xapi/agents` (see `xapi_documents`). The
parameters are read as the spec writes them (400 for a missing, malformed or unknown one, with
the case the spec gives); documents go back with their content type, ETag and Last-Modified."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from email.utils import format_datetime
from typing import Any

import orjson
from fastapi import APIRouter, Depends, Request, Response
from fastapi.responses import JSONResponse

from learning.providers import xapi_documents as docs
from learning.providers import xapi_filters as xf
from learning.providers import xapi_index
from learning.providers import xapi_validation as xv
from learning.providers.auth import LrsClient
from learning.providers.errors import XapiBadQuery, XapiStatementInvalid
from learning.providers.models import XapiDocumentKind
from learning.providers.xapi_api import AUTH_DOC, XapiRoute, get_and_head, xapi_version
from yanxiu.kit.deps import Session
from yanxiu.kit.openapi import operation_id

router = APIRouter(
    prefix="/xapi",
    tags=["xapi"],
    route_class=XapiRoute,
    dependencies=[Depends(xapi_version)],
    generate_unique_id_function=operation_id,
)

# Per resource: the parameters naming the scope, the document id's name, and what is required.
RESOURCES: dict[XapiDocumentKind, tuple[tuple[str, ...], str]] = {
    "state": (("activityId", "agent", "registration"), "stateId"),
    "activity_profile": (("activityId",), "profileId"),
    "agent_profile": (("agent",), "profileId"),
}
DOC = " Auth: as the statements resource." + AUTH_DOC


def _bad(zh: str, en: str) -> XapiBadQuery:
    return XapiBadQuery(zh, en)


def _checked(check: Any, value: str, name: str) -> Any:
    try:
        return check(value, name)
    except XapiStatementInvalid as exc:
        raise _bad(exc.detail_zh, exc.detail_en) from exc


def _scope(kind: XapiDocumentKind, params: Mapping[str, str], *, extra: set[str]) -> docs.Scope:
    names, id_name = RESOURCES[kind]
    allowed = {*names, id_name, *extra}
    unknown = sorted(set(params) - allowed)
    if unknown:
        raise XapiBadQuery(unsupported=unknown)
    for required in names:
        if required != "registration" and required not in params:
            raise _bad(f"缺少参数 {required}", f"The {required} parameter is required")
    activity = _checked(xv.iri, params["activityId"], "activityId") if "activityId" in names else ""
    agent = xapi_index.agent_key(xf.agent_identifier(params["agent"])) if "agent" in names else ""
    registration = ""
    if "registration" in params:
        registration = _checked(xv.uuid_string, params["registration"], "registration").lower()
    return docs.Scope(kind, activity, agent, registration)


def _document_id(
    kind: XapiDocumentKind, params: Mapping[str, str], *, required: bool
) -> str | None:
    name = RESOURCES[kind][1]
    value = params.get(name)
    if value is None and required:
        raise _bad(f"缺少参数 {name}", f"The {name} parameter is required")
    if value is not None and not 0 < len(value) <= 1024:
        raise _bad(f"{name} 长度须在 1–1024 之间", f"{name} must be 1–1024 characters")
    return value


def _since(params: Mapping[str, str]) -> datetime | None:
    return _checked(xv.timestamp, params["since"], "since") if "since" in params else None


def _pre(request: Request) -> docs.Preconditions:
    return docs.Preconditions(
        if_match=request.headers.get("if-match"), if_none_match=request.headers.get("if-none-match")
    )


def _document(found: Any) -> Response:
    return Response(
        found.content,
        media_type=found.content_type,
        headers={"ETag": f'"{found.etag}"', "Last-Modified": format_datetime(found.updated, True)},
    )


async def _write(
    kind: XapiDocumentKind, request: Request, session: Any, caller: Any, *, merge: bool
) -> Response:
    params = request.query_params
    scope = _scope(kind, params, extra=set())
    document_id = _document_id(kind, params, required=True)
    assert document_id is not None
    await docs.put(
        session,
        provider=caller.provider,
        scope=scope,
        document_id=document_id,
        content=caller.body,
        content_type=request.headers.get("content-type", "application/octet-stream"),
        pre=_pre(request),
        merge=merge,
    )
    return Response(status_code=204)


async def _read(kind: XapiDocumentKind, request: Request, session: Any, caller: Any) -> Response:
    params = request.query_params
    scope = _scope(kind, params, extra={"since"})
    document_id = _document_id(kind, params, required=False)
    if document_id is not None:
        if "since" in params:
            raise _bad("按编号读取时不能带 since", "since goes with a list, not an id")
        return _document(
            await docs.get(session, provider=caller.provider, scope=scope, document_id=document_id)
        )
    found = await docs.ids(session, provider=caller.provider, scope=scope, since=_since(params))
    return JSONResponse(found)


async def _delete(kind: XapiDocumentKind, request: Request, session: Any, caller: Any) -> Response:
    params = request.query_params
    scope = _scope(kind, params, extra=set())
    document_id = _document_id(kind, params, required=kind != "state")
    await docs.remove(
        session, provider=caller.provider, scope=scope, document_id=document_id, pre=_pre(request)
    )
    return Response(status_code=204)


PATHS: dict[XapiDocumentKind, str] = {
    "state": "/activities/state",
    "activity_profile": "/activities/profile",
    "agent_profile": "/agents/profile",
}
TITLES = {
    "state": "xAPI 状态文档",
    "activity_profile": "xAPI 活动档案",
    "agent_profile": "xAPI 学员档案",
}


def _routes(kind: XapiDocumentKind) -> None:
    path, title = PATHS[kind], TITLES[kind]

    async def put_document(request: Request, session: Session, caller: LrsClient) -> Response:
        return await _write(kind, request, session, caller, merge=False)

    async def post_document(request: Request, session: Session, caller: LrsClient) -> Response:
        return await _write(kind, request, session, caller, merge=True)

    async def get_document(request: Request, session: Session, caller: LrsClient) -> Response:
        return await _read(kind, request, session, caller)

    async def delete_document(request: Request, session: Session, caller: LrsClient) -> Response:
        return await _delete(kind, request, session, caller)

    name = kind.replace("_", " ")
    ident = "Xapi" + "".join(word.title() for word in kind.split("_"))
    router.add_api_route(
        path,
        put_document,
        methods=["PUT"],
        status_code=204,
        summary=f"{title} store",
        description=f"Stores (replaces) a {name} document." + DOC,
        operation_id=f"put{ident}",
    )
    router.add_api_route(
        path,
        post_document,
        methods=["POST"],
        status_code=204,
        summary=f"{title} merge",
        description=f"Merges a JSON object into the {name} document (or stores it)." + DOC,
        operation_id=f"post{ident}",
    )
    get_and_head(
        router,
        path,
        summary=f"{title} get, or list ids",
        description=f"One {name} document with its ETag, or the ids stored (since)." + DOC,
        operation_id=f"get{ident}",
    )(get_document)
    router.add_api_route(
        path,
        delete_document,
        methods=["DELETE"],
        status_code=204,
        summary=f"{title} delete",
        description=f"Deletes a {name} document"
        + (" (without stateId: every state of the scope)." if kind == "state" else ".")
        + DOC,
        operation_id=f"delete{ident}",
    )


for _kind in PATHS:
    _routes(_kind)


@get_and_head(
    router,
    "/activities",
    summary="xAPI 活动 the Activity as statements describe it",
    description="`activityId`: the Activity with every definition the caller's statements gave."
    + DOC,
)
async def get_activity(request: Request, session: Session, caller: LrsClient) -> JSONResponse:
    params = request.query_params
    unknown = sorted(set(params) - {"activityId"})
    if unknown:
        raise XapiBadQuery(unsupported=unknown)
    if "activityId" not in params:
        raise _bad("缺少参数 activityId", "The activityId parameter is required")
    activity_id = _checked(xv.iri, params["activityId"], "activityId")
    return JSONResponse(
        await docs.activity(session, provider=caller.provider, activity_id=activity_id)
    )


@get_and_head(
    router,
    "/agents",
    summary="xAPI 学员 the Person object of an Agent",
    description="`agent`: an Agent as JSON; its Person object." + DOC,
)
async def get_agent(request: Request, caller: LrsClient) -> JSONResponse:
    params = request.query_params
    unknown = sorted(set(params) - {"agent"})
    if unknown:
        raise XapiBadQuery(unsupported=unknown)
    if "agent" not in params:
        raise _bad("缺少参数 agent", "The agent parameter is required")
    xf.agent_identifier(params["agent"])
    return JSONResponse(docs.person(orjson.loads(params["agent"])))
