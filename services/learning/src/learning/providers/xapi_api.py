"""xAPI 1.0.3 statements resource (`/xapi/statements`): POST one statement or an array (→ ids),
PUT ?statementId= (→ 204), GET ?statementId= / ?voidedStatementId= / a list with `more`.

Every request needs `X-Experience-API-Version: 1.0.x`; every response (errors too) carries
`X-Experience-API-Version: 1.0.3`. Callers are registered providers: the HMAC signature of
`learning.providers.signing` (over the raw body; empty for GET), or HTTP Basic
`base64(key id + ":" + secret)` as LRS clients usually send. Errors are problem+json."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Annotated, Any
from urllib.parse import urlencode

import orjson
from fastapi import APIRouter, Depends, Query, Request, Response
from fastapi.responses import JSONResponse
from fastapi.routing import APIRoute
from starlette.datastructures import MutableHeaders
from starlette.types import Message, Receive, Scope, Send

from learning.providers import xapi_service, xapi_statements
from learning.providers.auth import LrsClient
from learning.providers.errors import (
    XapiBadQuery,
    XapiStatementInvalid,
    XapiVersionMissing,
    XapiVersionUnsupported,
)
from learning.providers.signing import NO_BEARER, SIGNING_DOC
from yanxiu.kit.bounds import Moment
from yanxiu.kit.deps import Session, runtime
from yanxiu.kit.pagination import decode_int_cursor, encode_cursor

VERSION_HEADER = "X-Experience-API-Version"
# What became of each completion statement (xAPI answers only ids): see COMPLETIONS_DOC.
COMPLETIONS_HEADER = "X-Yanxiu-Completions"
COMPLETIONS_DOC = (
    " The X-Yanxiu-Completions header says what became of each completion statement: "
    '"<statement id> <status> <counted completion id>", comma-separated; status recorded '
    "(the course counts now), already_counted (the teacher's completion of this course counts "
    "already, whatever channel or statement reported it: no hours are added, a higher "
    "result.score raises the best score), held (dated after the learning window closed, kept "
    "for an admin's decision) or already_recorded. A completion dated outside the project's "
    "year or learning window is refused (422 completion_outside_window)."
)
VERSION = "1.0.3"
GET_PARAMS = frozenset(
    {"statementId", "voidedStatementId", "verb", "since", "until", "limit", "cursor", "format"}
)
BODY_DOC = {
    **NO_BEARER,
    "requestBody": {
        "required": True,
        "content": {
            "application/json": {
                "schema": {
                    "oneOf": [
                        {"type": "object", "title": "Statement"},
                        {
                            "type": "array",
                            "maxItems": xapi_service.MAX_BATCH,
                            "items": {"type": "object", "title": "Statement"},
                        },
                    ]
                }
            }
        },
    },
}
AUTH_DOC = " Auth: " + SIGNING_DOC + " Or HTTP Basic `key id:secret`."


class XapiRoute(APIRoute):
    """Adds the version header to every response, including problem+json refusals."""

    async def handle(self, scope: Scope, receive: Receive, send: Send) -> None:
        async def send_versioned(message: Message) -> None:
            if message["type"] == "http.response.start":
                MutableHeaders(scope=message)[VERSION_HEADER] = VERSION
            await send(message)

        await super().handle(scope, receive, send_versioned)


async def xapi_version(request: Request) -> None:
    version = request.headers.get(VERSION_HEADER)
    if not version:
        raise XapiVersionMissing()
    if not version.strip().startswith("1.0"):
        raise XapiVersionUnsupported(version=version)


router = APIRouter(
    prefix="/xapi", tags=["xapi"], route_class=XapiRoute, dependencies=[Depends(xapi_version)]
)


# The about resource answers without credentials or a version header (xAPI 1.0.3 §7.7).
about_router = APIRouter(prefix="/xapi", tags=["xapi"], route_class=XapiRoute)


@about_router.get("/about", summary="xAPI about: the supported versions", openapi_extra=NO_BEARER)
async def about() -> dict[str, Any]:
    return {"version": [VERSION]}


def _json(raw: bytes) -> Any:
    if b"\\u0000" in raw:  # PostgreSQL's jsonb cannot hold a NUL character
        raise XapiStatementInvalid("语句不能包含 NUL 字符", "Statements cannot contain NUL")
    try:
        return orjson.loads(raw)
    except orjson.JSONDecodeError as exc:
        raise XapiStatementInvalid("请求体不是合法 JSON", "The body is not valid JSON") from exc


def _home_page(request: Request) -> str:
    return str(getattr(runtime(request).settings, "xapi_account_home_page", ""))


@router.post(
    "/statements",
    summary="xAPI 语句 store one or many",
    description="Stores a statement or an array (all or nothing) and returns the array of ids."
    " Same id and same statement: no-op; same id, different statement: 409."
    + xapi_statements.MAPPING_DOC
    + COMPLETIONS_DOC
    + AUTH_DOC,
    openapi_extra=BODY_DOC,
    response_model=list[uuid.UUID],
)
async def post_statements(request: Request, session: Session, caller: LrsClient) -> JSONResponse:
    statements = xapi_service.as_batch(_json(caller.body))
    stored = await xapi_service.store_batch(
        session, provider=caller.provider, statements=statements, home_page=_home_page(request)
    )
    return JSONResponse([str(s.statement_id) for s in stored], headers=_completions(stored))


@router.put(
    "/statements",
    status_code=204,
    summary="xAPI 语句 store one by id",
    description="Stores the statement under `statementId` (204)."
    + xapi_statements.MAPPING_DOC
    + COMPLETIONS_DOC
    + AUTH_DOC,
    openapi_extra=BODY_DOC,
)
async def put_statement(
    request: Request,
    session: Session,
    caller: LrsClient,
    statement_id: Annotated[uuid.UUID, Query(alias="statementId")],
) -> Response:
    statement = xapi_statements.validate(_json(caller.body))
    if "id" in statement and uuid.UUID(statement["id"]) != statement_id:
        raise XapiStatementInvalid(
            "语句 id 与 statementId 不一致", "The statement's id differs from statementId"
        )
    statement = {**statement, "id": str(statement_id)}
    stored = await xapi_service.store(
        session, provider=caller.provider, statement=statement, home_page=_home_page(request)
    )
    return Response(status_code=204, headers=_completions([stored]))


def _completions(stored: list[xapi_service.Stored]) -> dict[str, str]:
    value = xapi_service.completion_header(stored)
    return {COMPLETIONS_HEADER: value} if value else {}


@router.get(
    "/statements",
    summary="xAPI 语句 get by id, or list",
    openapi_extra=NO_BEARER,
    description="`statementId` (not voided) or `voidedStatementId`, else a page of the caller's "
    "statements, newest first, voided ones left out, with `more` for the next page. Filters: "
    "verb, since, until, limit (≤ 500)." + AUTH_DOC,
)
async def get_statements(
    request: Request,
    session: Session,
    caller: LrsClient,
    statement_id: Annotated[uuid.UUID | None, Query(alias="statementId")] = None,
    voided_statement_id: Annotated[uuid.UUID | None, Query(alias="voidedStatementId")] = None,
    verb: Annotated[str | None, Query(max_length=500)] = None,
    since: Moment | None = None,
    until: Moment | None = None,
    limit: Annotated[int, Query(ge=0, le=500)] = 100,
    cursor: Annotated[str | None, Query(max_length=200)] = None,
) -> JSONResponse:
    unknown = sorted(set(request.query_params) - GET_PARAMS)
    if unknown:
        raise XapiBadQuery(unsupported=unknown)
    headers = {"X-Experience-API-Consistent-Through": datetime.now(UTC).isoformat()}
    single = statement_id or voided_statement_id
    if single is not None:
        filters = {"verb", "since", "until", "cursor"} & set(request.query_params)
        if (statement_id and voided_statement_id) or filters:
            raise XapiBadQuery("按编号查询时不能带其他过滤条件", "An id lookup takes no filters")
        found = await xapi_service.get(
            session,
            provider=caller.provider,
            statement_id=single,
            voided=voided_statement_id is not None,
        )
        return JSONResponse(found, headers=headers)
    page, last = await xapi_service.list_statements(
        session,
        provider=caller.provider,
        verb=verb,
        since=since,
        until=until,
        after_seq=decode_int_cursor(cursor),
        limit=limit or 100,
    )
    more = ""
    if last is not None:
        params = {k: v for k, v in request.query_params.items() if k != "cursor"}
        params["cursor"] = encode_cursor(last)
        query = urlencode(params)
        prefix = request.headers.get("x-forwarded-prefix", "").rstrip("/")
        more = f"{prefix}/xapi/statements?{query}"
    return JSONResponse({"statements": page, "more": more}, headers=headers)
