"""xAPI 1.0.3 Alternate Request Syntax (Communication §1.3) on a real database: a request sent
as `POST <resource>?method=X` with a form body whose headers, content and query parameters
become the request's; what the rules refuse is a 400 problem+json. Last, the middleware alone
(no database): what passes untouched, how a request is rewritten, the body limit."""

from __future__ import annotations

import base64
import uuid
from typing import Any
from urllib.parse import urlencode

import httpx
import orjson
from starlette.types import Message, Receive, Scope, Send

from learning.providers.xapi_alternate import AlternateRequestSyntax
from services.learning.tests.test_providers_support import XAPI, World, world
from services.learning.tests.test_xapi import completed, get
from services.learning.tests.test_xapi_documents import ACTIVITY, AGENT

__all__ = ["world"]

FORM = {"Content-Type": "application/x-www-form-urlencoded"}


def basic(w: World, secret: str | None = None) -> str:
    token = base64.b64encode(f"{w.key_id}:{secret or w.secret}".encode()).decode()
    return f"Basic {token}"


def with_headers(w: World, **params: str) -> dict[str, str]:
    """Form parameters with the credentials and version as form parameters too (§1.3)."""
    return {"Authorization": basic(w), **XAPI, **params}


async def alternate(
    w: World,
    resource: str,
    form: dict[str, str] | str,
    *,
    query: str,
    http_method: str = "POST",
    headers: dict[str, str] | None = None,
) -> httpx.Response:
    body = form if isinstance(form, str) else urlencode(form)
    return await w.client.request(
        http_method, f"/xapi/{resource}?{query}", content=body, headers=headers or FORM
    )


def assert_problem(r: httpx.Response, status: int, code: str) -> None:
    assert r.status_code == status, r.text
    assert r.headers["content-type"] == "application/problem+json"
    assert r.headers["X-Experience-API-Version"] == "1.0.3"
    assert r.json()["code"] == code


async def test_a_get_issued_as_post_returns_the_statement_result(world: World) -> None:
    await world.signed("POST", "/xapi/statements", completed(world), headers=XAPI)
    r = await alternate(world, "statements", with_headers(world, limit="1"), query="method=GET")
    assert r.status_code == 200, r.text
    assert r.headers["X-Experience-API-Version"] == "1.0.3"
    result = r.json()
    assert len(result["statements"]) == 1 and "more" in result


async def test_a_put_issued_as_post_stores_the_statement(world: World) -> None:
    sid = uuid.uuid4()
    content = orjson.dumps(completed(world)).decode()
    form = with_headers(world, statementId=str(sid), content=content)
    r = await alternate(world, "statements", form, query="method=PUT")
    assert r.status_code == 204, r.text
    assert (await get(world, f"statementId={sid}")).json()["id"] == str(sid)
    read = await alternate(
        world, "statements", with_headers(world, statementId=str(sid)), query="method=get"
    )
    assert (read.status_code, read.json()["id"]) == (200, str(sid))


async def test_a_post_issued_as_post_stores_statements(world: World) -> None:
    sid = uuid.uuid4()
    content = orjson.dumps([completed(world, sid)]).decode()
    r = await alternate(
        world, "statements", with_headers(world, content=content), query="method=POST"
    )
    assert (r.status_code, r.json()) == (200, [str(sid)])


async def test_real_headers_serve_when_the_form_has_none(world: World) -> None:
    form = {"statementId": str(uuid.uuid4()), "content": orjson.dumps(completed(world)).decode()}
    headers = {**FORM, **XAPI, "Authorization": basic(world)}
    r = await alternate(world, "statements", form, query="method=PUT", headers=headers)
    assert r.status_code == 204, r.text


async def test_form_header_parameters_replace_the_real_headers(world: World) -> None:
    wrong = {**FORM, "X-Experience-API-Version": "0.9", "Authorization": basic(world, "sk_no")}
    r = await alternate(world, "statements", with_headers(world), query="method=GET", headers=wrong)
    assert r.status_code == 200, r.text
    form = with_headers(world, Authorization=basic(world, "sk_wrong"))
    refused = await alternate(world, "statements", form, query="method=GET")
    assert_problem(refused, 401, "signature_invalid")
    nobody = await alternate(world, "statements", dict(XAPI), query="method=GET")
    assert_problem(nobody, 401, "signature_missing")


async def test_an_unsupported_version_in_the_form_is_refused(world: World) -> None:
    form = with_headers(
        world,
        statementId=str(uuid.uuid4()),
        content=orjson.dumps(completed(world)).decode(),
    )
    form["X-Experience-API-Version"] = "0.8"
    r = await alternate(world, "statements", form, query="method=PUT")
    assert_problem(r, 400, "xapi_version_unsupported")
    assert await world.scalar("SELECT count(*) FROM learning.xapi_statements") == 0


async def test_method_on_any_other_http_method_is_refused(world: World) -> None:
    form = with_headers(world, content=orjson.dumps(completed(world)).decode())
    for http_method in ("PUT", "GET", "DELETE"):
        r = await alternate(world, "statements", form, query="method=POST", http_method=http_method)
        assert_problem(r, 400, "xapi_alternate_syntax_invalid")
    assert await world.scalar("SELECT count(*) FROM learning.xapi_statements") == 0


async def test_any_other_query_parameter_is_refused(world: World) -> None:
    sid = str(uuid.uuid4())
    form = with_headers(world, statementId=sid, content=orjson.dumps(completed(world)).decode())
    r = await alternate(world, "statements", form, query=f"method=PUT&statementId={sid}")
    assert_problem(r, 400, "xapi_alternate_syntax_invalid")
    assert r.json()["unsupported"] == ["statementId"]
    twice = await alternate(world, "statements", form, query="method=PUT&method=PUT")
    assert_problem(twice, 400, "xapi_alternate_syntax_invalid")
    assert await world.scalar("SELECT count(*) FROM learning.xapi_statements") == 0


async def test_an_unknown_method_value_is_refused(world: World) -> None:
    for value in ("PATCH", "OPTIONS", "FETCH", ""):
        r = await alternate(world, "statements", with_headers(world), query=f"method={value}")
        assert_problem(r, 400, "xapi_alternate_syntax_invalid")


async def test_a_put_or_post_without_content_is_refused(world: World) -> None:
    real = {**XAPI, "Authorization": basic(world)}
    no_body = await world.client.post("/xapi/statements?method=PUT", headers=real)
    assert_problem(no_body, 400, "xapi_alternate_syntax_invalid")
    for method in ("PUT", "POST"):
        form = with_headers(world, statementId=str(uuid.uuid4()))
        r = await alternate(world, "statements", form, query=f"method={method}")
        assert_problem(r, 400, "xapi_alternate_syntax_invalid")


async def test_a_json_body_with_the_form_content_type_is_refused(world: World) -> None:
    form = {
        "statementId": str(uuid.uuid4()),
        "content": orjson.dumps(completed(world)).decode(),
        "X-Experience-API-Version": "1.0.3",
    }
    headers = {**FORM, **XAPI, "Authorization": basic(world)}
    r = await alternate(
        world, "statements", orjson.dumps(form).decode(), query="method=PUT", headers=headers
    )
    assert_problem(r, 400, "xapi_alternate_syntax_invalid")
    assert await world.scalar("SELECT count(*) FROM learning.xapi_statements") == 0


async def test_a_body_not_sent_as_a_form_is_refused(world: World) -> None:
    form = with_headers(world, content=orjson.dumps(completed(world)).decode())
    json = {"Content-Type": "application/json"}
    r = await alternate(world, "statements", form, query="method=POST", headers=json)
    assert_problem(r, 400, "xapi_alternate_syntax_invalid")


async def test_a_repeated_header_or_content_parameter_is_refused(world: World) -> None:
    content = orjson.dumps(completed(world)).decode()
    for extra in ("content=x", "authorization=Basic%20x"):
        body = urlencode(with_headers(world, content=content)) + "&" + extra
        r = await alternate(world, "statements", body, query="method=POST")
        assert_problem(r, 400, "xapi_alternate_syntax_invalid")


async def test_documents_work_through_the_alternate_syntax(world: World) -> None:
    state = {"activityId": ACTIVITY, "agent": AGENT, "stateId": "bookmark"}
    text = {"Content-Type": "text/plain"}
    put = with_headers(world, **state, content="page 3", **text)
    r = await alternate(world, "activities/state", put, query="method=PUT")
    assert r.status_code == 204, r.text
    got = await alternate(
        world, "activities/state", with_headers(world, **state), query="method=GET"
    )
    assert (got.status_code, got.content) == (200, b"page 3")
    assert got.headers["content-type"].startswith("text/plain")
    guarded = with_headers(world, **state, content="page 4", **text, **{"If-Match": '"stale"'})
    stale = await alternate(world, "activities/state", guarded, query="method=PUT")
    assert_problem(stale, 412, "xapi_document_precondition_failed")
    gone = await alternate(
        world, "activities/state", with_headers(world, **state), query="method=DELETE"
    )
    assert gone.status_code == 204
    missing = await alternate(
        world, "activities/state", with_headers(world, **state), query="method=GET"
    )
    assert_problem(missing, 404, "xapi_document_not_found")


# --- the middleware alone -------------------------------------------------------------------
class Recorder:
    """An app that remembers the scope and body it was given and answers 204."""

    def __init__(self) -> None:
        self.scope: Scope | None = None
        self.body = b""

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        self.scope = scope
        self.body = (await receive())["body"]
        await send({"type": "http.response.start", "status": 204, "headers": []})
        await send({"type": "http.response.body", "body": b""})


async def drive(app: Any, path: str, query: bytes, body: bytes, headers: list[Any]) -> list[Any]:
    scope: Scope = {
        "type": "http",
        "method": "POST",
        "path": path,
        "raw_path": path.encode(),
        "query_string": query,
        "headers": headers,
    }
    chunks = [body[:3], body[3:]]
    sent: list[Message] = []

    async def receive() -> Message:
        chunk = chunks.pop(0) if chunks else b""
        return {"type": "http.request", "body": chunk, "more_body": bool(chunks)}

    async def send(message: Message) -> None:
        sent.append(message)

    await app(scope, receive, send)
    return [scope, sent]


async def test_requests_without_the_method_parameter_pass_untouched() -> None:
    recorder = Recorder()
    middleware = AlternateRequestSyntax(recorder)
    for path, query in [("/xapi/statements", b"limit=1"), ("/progress", b"method=PUT")]:
        scope, _ = await drive(middleware, path, query, b"x=1", [(b"content-type", b"text/a")])
        assert recorder.scope is scope and recorder.body == b"x=1"


async def test_the_form_becomes_the_request() -> None:
    recorder = Recorder()
    form = urlencode(
        {"Authorization": "Basic a2V5", "content": "页 3", "stateId": "s 1", "If-Match": '"e"'}
    ).encode()
    headers = [(b"content-type", FORM["Content-Type"].encode()), (b"authorization", b"Basic old")]
    await drive(
        AlternateRequestSyntax(recorder), "/xapi/activities/state", b"method=put", form, headers
    )
    assert recorder.scope is not None
    assert recorder.scope["method"] == "PUT"
    assert recorder.scope["raw_path"] == b"/xapi/activities/state"
    assert recorder.scope["query_string"] == b"stateId=s+1"
    assert sorted(recorder.scope["headers"]) == [
        (b"authorization", b"Basic a2V5"),
        (b"content-length", str(len("页 3".encode())).encode()),
        (b"content-type", b"application/json"),
        (b"if-match", b'"e"'),
    ]
    assert recorder.body == "页 3".encode()


async def test_a_body_over_the_limit_is_refused_with_413() -> None:
    recorder = Recorder()
    middleware = AlternateRequestSyntax(recorder, max_body=8)
    headers = [(b"content-type", FORM["Content-Type"].encode())]
    _, sent = await drive(middleware, "/xapi/statements", b"method=GET", b"limit=10000", headers)
    assert recorder.scope is None
    assert sent[0]["status"] == 413
    assert (b"content-type", b"application/problem+json") in sent[0]["headers"]
    assert orjson.loads(sent[1]["body"])["code"] == "xapi_body_too_large"
