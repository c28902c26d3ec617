"""xAPI 1.0.3 statements resource (`/xapi/statements`): POST one statement or an array (→ ids),
PUT ?statementId= (→ 204), GET ?statementId= / ?voidedStatementId= / a list with `more`.

Every request needs `X-Experience-API-Version: 1.0.x`; every response (errors too) carries
`X-Experience-API-Version: 1.0.3`. Callers are registered providers: the HMAC signature of
`learning.providers.signing` (over the raw body; empty for GET), or HTTP Basic
`base64(key id + ":" + secret)` as LRS clients usually send. Errors are problem+json."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Annotated, Any, TypeVar, cast
from urllib.parse import urlencode

import orjson
from fastapi import APIRouter, Depends, Query, Request, Response
from fastapi.responses import JSONResponse
from fastapi.routing import APIRoute
from starlette.datastructures import MutableHeaders
from starlette.types import Message, Receive, Scope, Send

from learning.providers import (
    xapi_attachments,
    xapi_multipart,
    xapi_reads,
    xapi_service,
    xapi_statements,
)
from learning.providers import xapi_filters as xf
from learning.providers.auth import LrsClient
from learning.providers.errors import (
    XapiBadQuery,
    XapiStatementInvalid,
    XapiVersionMissing,
    XapiVersionUnsupported,
)
from learning.providers.schemas import XapiMappingRead, XapiMappingStatus
from learning.providers.signing import SIGNING_DOC
from yanxiu.kit.deps import Session, runtime
from yanxiu.kit.openapi import operation_id
from yanxiu.kit.pagination import Page, decode_int_cursor, encode_cursor

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
CONSISTENT_HEADER = "X-Experience-API-Consistent-Through"
BODY_DOC = {
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
            },
            "multipart/mixed": {
                "schema": {"type": "string", "format": "binary"},
                "description": "The statement(s) as the first part (application/json), then one "
                "part per attachment: Content-Transfer-Encoding binary, X-Experience-API-Hash",
            },
        },
    },
}
# A read with attachments=true answers multipart/mixed: the JSON first, then the attachments.
READ_DOC = {
    "responses": {
        "200": {
            "content": {
                "application/json": {"schema": {"type": "object"}},
                "multipart/mixed": {"schema": {"type": "string", "format": "binary"}},
            }
        }
    }
}
AUTH_DOC = " Auth: " + SIGNING_DOC + " Or HTTP Basic `key id:secret`."


TEXT: dict[str, Any] = {"type": "string"}
FLAG: dict[str, Any] = {"type": "string", "enum": ["true", "false"]}
ID: dict[str, Any] = {"type": "string", "format": "uuid"}
INSTANT: dict[str, Any] = {
    "type": "string",
    "format": "date-time",
    "formatMinimum": "0001-01-01T00:00:00Z",
    "formatMaximum": "9999-12-31T23:59:59Z",
}


def _query_parameter(name: str, schema: dict[str, Any], doc: str) -> dict[str, Any]:
    return {"name": name, "in": "query", "required": False, "schema": schema, "description": doc}


Endpoint = TypeVar("Endpoint", bound=Callable[..., Any])


def get_and_head(target: APIRouter, path: str, **options: Any) -> Callable[[Endpoint], Endpoint]:
    """A read answered to GET and to HEAD alike (§1.1: HEAD is GET without the body); the
    OpenAPI document lists the GET (one operation, one operationId)."""

    def register(endpoint: Endpoint) -> Endpoint:
        target.add_api_route(path, endpoint, methods=["GET"], **options)
        target.add_api_route(path, endpoint, methods=["HEAD"], include_in_schema=False, **options)
        return endpoint

    return register


class XapiRoute(APIRoute):
    """Adds the version header to every response, including problem+json refusals, and to
    every answer of a statements read `X-Experience-API-Consistent-Through` (§2.1.3: whatever
    the status): every statement stored before that moment is in the answers."""

    async def handle(self, scope: Scope, receive: Receive, send: Send) -> None:
        reading = scope["method"] in ("GET", "HEAD") and scope["path"].endswith("/statements")
        consistent = datetime.now(UTC).isoformat() if reading else None

        async def send_versioned(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                headers[VERSION_HEADER] = VERSION
                if consistent is not None:
                    headers[CONSISTENT_HEADER] = consistent
            await send(message)

        await super().handle(scope, receive, send_versioned)


async def xapi_version(request: Request) -> None:
    version = request.headers.get(VERSION_HEADER)
    if not version:
        raise XapiVersionMissing()
    if not version.strip().startswith("1.0"):
        raise XapiVersionUnsupported(version=version)


router = APIRouter(
    prefix="/xapi",
    tags=["xapi"],
    route_class=XapiRoute,
    dependencies=[Depends(xapi_version)],
    generate_unique_id_function=operation_id,
)


# The about resource answers without credentials or a version header (xAPI 1.0.3 §7.7).
about_router = APIRouter(
    prefix="/xapi", tags=["xapi"], route_class=XapiRoute, generate_unique_id_function=operation_id
)


@get_and_head(
    about_router,
    "/about",
    operation_id="getXapiAbout",
    summary="xAPI about: the supported versions",
)
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
    body = xapi_attachments.received(request.headers.get("content-type"), caller.body)
    statements = xapi_service.as_batch(_json(body.statements), body.attachments)
    stored = await xapi_service.store_batch(
        session,
        provider=caller.provider,
        statements=statements,
        home_page=_home_page(request),
        attachments=body.attachments,
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
    openapi_extra={
        **BODY_DOC,
        "parameters": [_query_parameter("statementId", ID, "The statement's id (required)")],
    },
)
async def put_statement(request: Request, session: Session, caller: LrsClient) -> Response:
    raw_id = request.query_params.get("statementId")
    if raw_id is None:
        raise XapiBadQuery("PUT 须带 statementId 参数", "PUT needs the statementId parameter")
    statement_id = xf.statement_id(raw_id, "statementId")
    body = xapi_attachments.received(request.headers.get("content-type"), caller.body)
    statement = xapi_statements.validate(_json(body.statements))
    xapi_service.check_attachments([statement], body.attachments)
    if "id" in statement and uuid.UUID(statement["id"]) != statement_id:
        raise XapiStatementInvalid(
            "语句 id 与 statementId 不一致", "The statement's id differs from statementId"
        )
    statement = {**statement, "id": str(statement_id)}
    stored = await xapi_service.store(
        session, provider=caller.provider, statement=statement, home_page=_home_page(request)
    )
    await xapi_service.save_attachments(
        session, provider=caller.provider, attachments=body.attachments
    )
    return Response(status_code=204, headers=_completions([stored]))


def _completions(stored: list[xapi_service.Stored]) -> dict[str, str]:
    value = xapi_service.completion_header(stored)
    return {COMPLETIONS_HEADER: value} if value else {}


STATEMENT_QUERY_DOC: list[tuple[str, dict[str, Any], str]] = [
    ("statementId", ID, "One statement (not voided); only attachments and format beside it"),
    ("voidedStatementId", ID, "One voided statement"),
    ("agent", TEXT | {"maxLength": xf.AGENT_MAX}, "An Agent or identified Group as JSON"),
    ("verb", TEXT | {"maxLength": 500}, "A verb IRI"),
    ("activity", TEXT | {"maxLength": 2048}, "An activity IRI: the object"),
    ("registration", ID, "context.registration"),
    ("related_activities", FLAG, "activity also in context and SubStatements"),
    ("related_agents", FLAG, "agent also as authority, instructor, team, in SubStatements"),
    ("since", INSTANT, "Stored after this"),
    ("until", INSTANT, "Stored at or before this"),
    (
        "limit",
        {"type": "integer", "minimum": 0, "maximum": xf.LIMIT_INPUT_MAX},
        f"Statements per page: 0 is the default 100, more than {xf.MAX_LIMIT} is {xf.MAX_LIMIT}",
    ),
    (
        "format",
        {"type": "string", "enum": ["exact", "ids", "canonical"]},
        "exact (default), ids or canonical (one language: Accept-Language)",
    ),
    (
        "attachments",
        FLAG,
        "true: multipart/mixed, the JSON first, then each attachment's content (with its hash)",
    ),
    ("ascending", FLAG, "Oldest first"),
    ("cursor", TEXT | {"maxLength": xf.CURSOR_MAX}, "From `more`"),
]


@get_and_head(
    router,
    "/statements",
    summary="xAPI 语句 get by id, or list",
    openapi_extra={
        **READ_DOC,
        "parameters": [_query_parameter(*p) for p in STATEMENT_QUERY_DOC],
    },
    description="`statementId` (not voided) or `voidedStatementId`, else a StatementResult of "
    "the caller's statements, newest first, voided ones left out, with `more` for the next "
    "page. Every filter of xAPI 1.0.3 §2.1.3. HEAD answers the same without a body." + AUTH_DOC,
)
async def get_statements(request: Request, session: Session, caller: LrsClient) -> Response:
    params = request.query_params
    repeated = sorted({k for k in params if len(params.getlist(k)) > 1})
    if repeated:
        raise XapiBadQuery("查询参数重复", "A query parameter is repeated", unsupported=repeated)
    languages = xf.preferred_languages(request.headers.get("accept-language"))
    if "statementId" in params or "voidedStatementId" in params:
        fmt = xf.check_single(params)
        voided = "voidedStatementId" in params
        raw = params["voidedStatementId" if voided else "statementId"]
        found = await xapi_service.get(
            session,
            provider=caller.provider,
            statement_id=xf.statement_id(raw, "voidedStatementId" if voided else "statementId"),
            voided=voided,
        )
        return await _answer(
            session, caller, xf.formatted(found, fmt, languages), [found], _wants_parts(params)
        )
    query = xf.read_query(params)
    page = await xapi_reads.page(
        session,
        provider_id=caller.provider.id,
        query=query,
        after_seq=decode_int_cursor(params.get("cursor")),
    )
    more = ""
    if page.last_seq is not None:
        kept = {k: v for k, v in params.items() if k != "cursor"}
        kept["cursor"] = encode_cursor(page.last_seq)
        prefix = request.headers.get("x-forwarded-prefix", "").rstrip("/")
        more = f"{prefix}/xapi/statements?{urlencode(kept)}"
    if query.format == "exact" and not query.attachments:
        # The statements as stored, spliced in without decoding them.
        body = b'{"statements":[%s],"more":%s}' % (
            ",".join(page.statements).encode(),
            orjson.dumps(more),
        )
        return Response(body, media_type="application/json")
    decoded = page.decoded()
    statements = [xf.formatted(s, query.format, languages) for s in decoded]
    return await _answer(
        session, caller, {"statements": statements, "more": more}, decoded, query.attachments
    )


def _wants_parts(params: Any) -> bool:
    return xf.read_query({k: v for k, v in params.items() if k == "attachments"}).attachments


async def _answer(
    session: Session,
    caller: LrsClient,
    content: Any,
    statements: list[dict[str, Any]],
    with_attachments: bool,
) -> Response:
    """JSON, or with `attachments=true` multipart/mixed: the JSON first, then each attachment
    whose content the LRS holds, with its hash (Communication §2.1.3)."""
    if not with_attachments:
        return JSONResponse(content)
    found = await xapi_service.attachments_of(
        session, provider=caller.provider, statements=statements
    )
    media, body = xapi_multipart.compose(
        [({"Content-Type": "application/json"}, orjson.dumps(content))]
        + [
            (
                {
                    "Content-Type": a.content_type,
                    "Content-Transfer-Encoding": "binary",
                    "X-Experience-API-Hash": a.sha2,
                },
                a.content,
            )
            for a in found
        ]
    )
    return Response(body, media_type=media)


@router.get(
    "/mappings",
    summary="xAPI 映射结果 what each completion statement became",
    response_model=Page[XapiMappingRead],
    description="Every valid statement is stored; a completion statement is then mapped onto a "
    "teacher's course completion in a project. This resource says what each of the caller's "
    "completion statements became, newest first: `statementId` for one, `status` to filter "
    "(e.g. waiting)." + AUTH_DOC,
)
async def get_mappings(
    session: Session,
    caller: LrsClient,
    statement_id: Annotated[uuid.UUID | None, Query(alias="statementId")] = None,
    status: XapiMappingStatus | None = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
    cursor: Annotated[str | None, Query(max_length=200)] = None,
) -> Page[XapiMappingRead]:
    rows, last = await xapi_service.list_mappings(
        session,
        provider=caller.provider,
        statement_id=statement_id,
        status=status,
        after_seq=decode_int_cursor(cursor),
        limit=limit,
    )
    return Page(
        items=[
            XapiMappingRead(
                statement_id=r.id,
                status=cast(XapiMappingStatus, r.mapping),
                code=r.mapping_code,
                detail=r.mapping_detail,
                completion_id=r.completion_id,
                teacher_id=r.mapping_teacher_id,
                course_key=r.mapping_course_key,
                stored=r.stored,
                mapped_at=r.mapped_at or r.stored,
            )
            for r in rows
        ],
        next_cursor=encode_cursor(last) if last is not None else None,
    )
