"""The xAPI 1.0.3 statements resource on a real database: POST (one or many) / PUT / GET, the
version header, validation, the spec's conflict rules, voiding (which revokes the completion),
completion statements recorded once, and who may call (signature or Basic key:secret)."""

from __future__ import annotations

import asyncio
import base64
import time
import uuid
from typing import Any

from services.learning.tests.test_providers_support import HOME_PAGE, XAPI, World, world

__all__ = ["world"]

COMPLETED = "http://adlnet.gov/expapi/verbs/completed"
EXPERIENCED = "http://adlnet.gov/expapi/verbs/experienced"
VOIDED = "http://adlnet.gov/expapi/verbs/voided"
PROJECT_EXT = "https://yanxiu.example/xapi/extensions/project-id"


def completed(w: World, statement_id: uuid.UUID | None = None, **over: Any) -> dict[str, Any]:
    stmt: dict[str, Any] = {
        "actor": {
            "objectType": "Agent",
            "account": {"homePage": HOME_PAGE, "name": str(w.teacher_id)},
        },
        "verb": {"id": COMPLETED, "display": {"zh-CN": "完成"}},
        "object": {
            "objectType": "Activity",
            "id": f"https://yanxiu.example/xapi/courses/{w.course_code}",
        },
        "context": {"extensions": {PROJECT_EXT: str(w.project_id)}},
        "timestamp": "2026-11-02T08:00:00+08:00",
    }
    if statement_id is not None:
        stmt["id"] = str(statement_id)
    stmt.update(over)
    return stmt


def voiding(target: uuid.UUID) -> dict[str, Any]:
    return {
        "actor": {"mbox": "mailto:lrs-admin@zhixue.example"},
        "verb": {"id": VOIDED, "display": {"en-US": "voided"}},
        "object": {"objectType": "StatementRef", "id": str(target)},
    }


async def post(w: World, payload: Any, **kw: Any) -> Any:
    return await w.signed("POST", "/xapi/statements", payload, headers=XAPI, **kw)


async def put(w: World, statement_id: uuid.UUID, payload: Any) -> Any:
    return await w.signed(
        "PUT", f"/xapi/statements?statementId={statement_id}", payload, headers=XAPI
    )


async def get(w: World, query: str) -> Any:
    return await w.signed("GET", f"/xapi/statements?{query}", headers=XAPI)


async def test_post_stores_one_statement_and_returns_its_id(world: World) -> None:
    r = await post(world, completed(world))
    assert r.status_code == 200, r.text
    assert r.headers["X-Experience-API-Version"] == "1.0.3"
    [sid] = r.json()
    got = await get(world, f"statementId={sid}")
    assert got.status_code == 200
    body = got.json()
    assert body["id"] == sid
    assert body["verb"]["id"] == COMPLETED
    assert body["authority"]["account"]["name"] == "zhixue"
    assert body["stored"] and body["version"] == "1.0.0"


async def test_post_stores_an_array_and_returns_the_ids_in_order(world: World) -> None:
    ids = [uuid.uuid4(), uuid.uuid4()]
    batch = [completed(world, ids[0]), completed(world, ids[1], verb={"id": EXPERIENCED})]
    r = await post(world, batch)
    assert r.json() == [str(i) for i in ids]


async def test_the_version_header_is_required_and_echoed_on_errors(world: World) -> None:
    r = await world.signed("POST", "/xapi/statements", completed(world))
    assert r.status_code == 400
    assert r.json()["code"] == "xapi_version_missing"
    assert r.headers["content-type"] == "application/problem+json"
    assert r.headers["X-Experience-API-Version"] == "1.0.3"
    old = await world.signed("POST", "/xapi/statements", completed(world), headers={XAPI_H: "0.95"})
    assert old.json()["code"] == "xapi_version_unsupported"


XAPI_H = "X-Experience-API-Version"


async def test_statements_missing_required_parts_are_refused(world: World) -> None:
    no_verb = completed(world)
    del no_verb["verb"]
    two_ifis = completed(world, actor={"mbox": "mailto:a@b.cn", "account": {}})
    bad_id = completed(world)
    bad_id["id"] = "not-a-uuid"
    extra = completed(world, colour="blue")
    cases: list[Any] = [no_verb, two_ifis, bad_id, extra, {"actor": {}}, [], "text"]
    for bad in cases:
        r = await post(world, bad)
        assert r.status_code == 400, (bad, r.text)
        assert r.json()["code"] == "xapi_statement_invalid"
    assert await world.scalar("SELECT count(*) FROM learning.xapi_statements") == 0


async def test_a_batch_with_one_bad_statement_stores_nothing(world: World) -> None:
    good, bad = completed(world, uuid.uuid4()), completed(world, uuid.uuid4())
    del bad["object"]
    r = await post(world, [good, bad])
    assert r.status_code == 400
    assert "statements[1].object" in r.json()["detail"]
    assert await world.scalar("SELECT count(*) FROM learning.xapi_statements") == 0


async def test_duplicate_ids_inside_one_batch_are_refused(world: World) -> None:
    sid = uuid.uuid4()
    r = await post(world, [completed(world, sid), completed(world, sid)])
    assert (r.status_code, r.json()["code"]) == (400, "xapi_statement_invalid")


async def test_put_stores_under_the_given_id(world: World) -> None:
    sid = uuid.uuid4()
    r = await put(world, sid, completed(world))
    assert r.status_code == 204
    assert r.headers["X-Experience-API-Version"] == "1.0.3"
    assert (await get(world, f"statementId={sid}")).json()["id"] == str(sid)
    other = await put(world, uuid.uuid4(), completed(world, uuid.uuid4()))
    assert (other.status_code, other.json()["code"]) == (400, "xapi_statement_invalid")


async def test_same_id_and_same_statement_is_a_no_op(world: World) -> None:
    sid = uuid.uuid4()
    assert (await put(world, sid, completed(world))).status_code == 204
    # Differences the LRS may cause (or a resend's timestamp) are ignored.
    resent = completed(world, sid, timestamp="2026-11-02T09:00:00+08:00")
    resent["stored"] = "2030-01-01T00:00:00Z"
    again = await post(world, resent)
    assert (again.status_code, again.json()) == (200, [str(sid)])
    assert (await put(world, sid, completed(world))).status_code == 204
    assert await world.scalar("SELECT count(*) FROM learning.xapi_statements") == 1
    types = await world.outbox_types()
    assert types.count("learning.course_completed") == 1


async def test_same_id_and_a_different_statement_is_a_conflict(world: World) -> None:
    sid = uuid.uuid4()
    await put(world, sid, completed(world))
    changed = completed(world, sid, result={"completion": True, "score": {"scaled": 0.9}})
    r = await post(world, changed)
    assert (r.status_code, r.json()["code"]) == (409, "xapi_statement_conflict")
    assert (await put(world, sid, changed)).status_code == 409


async def test_another_providers_statement_id_is_a_conflict_and_invisible(world: World) -> None:
    sid = uuid.uuid4()
    await put(world, sid, completed(world))
    other = await world.client.post(
        "/providers", json={"code": "other", "name": "另一家"}, headers=world.admin
    )
    key = await world.client.post(f"/providers/{other.json()['id']}/keys", headers=world.admin)
    creds = {"key_id": key.json()["key_id"], "secret": key.json()["secret"]}
    r = await world.signed(
        "PUT", f"/xapi/statements?statementId={sid}", completed(world), headers=XAPI, **creds
    )
    assert r.status_code == 409
    hidden = await world.signed("GET", f"/xapi/statements?statementId={sid}", headers=XAPI, **creds)
    assert (hidden.status_code, hidden.json()["code"]) == (404, "xapi_statement_not_found")


async def test_a_completion_statement_is_recorded_once(world: World) -> None:
    sid = uuid.uuid4()
    await post(world, completed(world, sid))
    await post(world, completed(world, sid))
    await put(world, sid, completed(world))
    assert (await world.outbox_types()).count("learning.course_completed") == 1
    completion = await world.scalar(
        "SELECT completion_id FROM learning.xapi_statements WHERE id = :i", i=sid
    )
    assert completion is not None


async def test_result_completion_counts_and_a_failure_does_not(world: World) -> None:
    done = completed(world, verb={"id": EXPERIENCED}, result={"completion": True})
    failed = completed(world, result={"completion": True, "success": False})
    watched = completed(world, verb={"id": EXPERIENCED})
    r = await post(world, [done, failed, watched])
    assert r.status_code == 200, r.text
    assert (await world.outbox_types()).count("learning.course_completed") == 1


async def test_a_providers_own_activity_carries_hours_and_category(world: World) -> None:
    own = completed(
        world,
        object={
            "id": "https://zhixue.example/activities/it-2-0",
            "definition": {
                "name": {"zh-CN": "信息技术应用能力提升"},
                "extensions": {
                    "https://yanxiu.example/xapi/extensions/hours": 3,
                    "https://yanxiu.example/xapi/extensions/category": "general_elective",
                },
            },
        },
    )
    r = await post(world, own)
    assert r.status_code == 200 and " recorded " in r.headers["X-Yanxiu-Completions"]
    unknown = completed(world, object={"id": "https://zhixue.example/activities/nothing"})
    r = await post(world, unknown)
    # Stored; it waits for its course (see test_xapi_store_first).
    assert r.status_code == 200 and " waiting -" in r.headers["X-Yanxiu-Completions"]


async def test_voiding_a_completion_revokes_it(world: World) -> None:
    sid = uuid.uuid4()
    await post(world, completed(world, sid))
    void_id = uuid.uuid4()
    r = await put(world, void_id, voiding(sid))
    assert r.status_code == 204, r.text
    assert "learning.course_completion_revoked" in await world.outbox_types()
    assert (await get(world, f"statementId={sid}")).status_code == 404
    voided = await get(world, f"voidedStatementId={sid}")
    assert voided.status_code == 200
    assert voided.json()["id"] == str(sid)
    assert (await get(world, f"voidedStatementId={void_id}")).status_code == 404
    assert (await get(world, f"statementId={void_id}")).json()["verb"]["id"] == VOIDED
    # Voiding again revokes nothing more.
    await post(world, voiding(sid))
    types = await world.outbox_types()
    assert types.count("learning.course_completion_revoked") == 1


async def test_a_voiding_statement_cannot_be_voided(world: World) -> None:
    sid, void_id = uuid.uuid4(), uuid.uuid4()
    await post(world, [completed(world, sid), {**voiding(sid), "id": str(void_id)}])
    r = await post(world, voiding(void_id))
    assert (r.status_code, r.json()["code"]) == (400, "xapi_cannot_void_voiding_statement")


async def test_a_voiding_statement_needs_a_statement_ref(world: World) -> None:
    bad = {**voiding(uuid.uuid4()), "object": {"id": "https://yanxiu.example/a"}}
    r = await post(world, bad)
    assert (r.status_code, r.json()["code"]) == (400, "xapi_statement_invalid")


async def test_a_statement_voided_before_it_arrives_does_not_count(world: World) -> None:
    sid = uuid.uuid4()
    assert (await post(world, voiding(sid))).status_code == 200
    assert (await post(world, completed(world, sid))).status_code == 200
    assert "learning.course_completed" not in await world.outbox_types()
    assert (await get(world, f"voidedStatementId={sid}")).status_code == 200


async def test_a_completion_voided_in_its_own_batch_does_not_count_in_either_order(
    world: World,
) -> None:
    """A batch is stored as one insert: a voiding statement before or after its target in
    the same batch leaves the target voided and its course not counted."""
    first, second = uuid.uuid4(), uuid.uuid4()
    r = await post(world, [voiding(first), completed(world, first)])
    assert r.status_code == 200, r.text
    r = await post(world, [completed(world, second), voiding(second)])
    assert r.status_code == 200, r.text
    for sid in (first, second):
        assert (await get(world, f"voidedStatementId={sid}")).status_code == 200
        assert (await get(world, f"statementId={sid}")).status_code == 404
    assert (
        await world.scalar("SELECT count(*) FROM learning.completions WHERE revoked_at IS NULL")
        == 0
    )


async def test_the_list_pages_with_more_and_leaves_out_voided(world: World) -> None:
    ids = [uuid.uuid4() for _ in range(3)]
    await post(world, [completed(world, i, verb={"id": EXPERIENCED}) for i in ids])
    [void_id] = (await post(world, voiding(ids[1]))).json()
    first = await get(world, "limit=2")
    assert first.status_code == 200
    page = first.json()
    assert len(page["statements"]) == 2
    assert page["more"].startswith("/xapi/statements?")
    rest = await get(world, page["more"].split("?", 1)[1])
    seen = [s["id"] for s in page["statements"] + rest.json()["statements"]]
    assert rest.json()["more"] == ""
    # Newest first; the voided statement is left out, the voiding one is listed.
    assert seen == [void_id, str(ids[2]), str(ids[0])]
    only = await get(world, f"verb={EXPERIENCED}")
    # The voided statement matches but is left out; the statement voiding it is listed (§2.1.4).
    assert {s["id"] for s in only.json()["statements"]} == {str(ids[0]), str(ids[2]), void_id}
    bad = await get(world, "agent=x")
    assert (bad.status_code, bad.json()["code"]) == (400, "xapi_bad_query")


async def test_lrs_clients_may_use_basic_key_and_secret(world: World) -> None:
    token = base64.b64encode(f"{world.key_id}:{world.secret}".encode()).decode()
    basic = {"Authorization": f"Basic {token}", **XAPI}
    r = await world.client.post("/xapi/statements", json=completed(world), headers=basic)
    assert r.status_code == 200, r.text
    wrong = base64.b64encode(f"{world.key_id}:sk_wrong".encode()).decode()
    r = await world.client.get(
        "/xapi/statements", headers={"Authorization": f"Basic {wrong}", **XAPI}
    )
    assert (r.status_code, r.json()["code"]) == (401, "signature_invalid")
    assert r.headers["X-Experience-API-Version"] == "1.0.3"


async def test_xapi_refuses_unsigned_and_expired_requests(world: World) -> None:
    r = await world.client.get("/xapi/statements", headers=XAPI)
    assert (r.status_code, r.json()["code"]) == (401, "signature_missing")
    old = await world.signed(
        "GET", "/xapi/statements", headers=XAPI, timestamp=int(time.time()) - 400
    )
    assert (old.status_code, old.json()["code"]) == (401, "signature_expired")


async def test_a_read_signature_is_bound_to_its_target(world: World) -> None:
    sid = uuid.uuid4()
    await put(world, sid, completed(world))
    path = f"/xapi/statements?statementId={sid}"
    headers = {**XAPI, **world.sign(path.encode())}
    assert (await world.client.get(path, headers=headers)).status_code == 200
    # Repeating a read is harmless (polling); using its signature for another read is not.
    assert (await world.client.get(path, headers=headers)).status_code == 200
    other = await world.client.get("/xapi/statements?limit=5", headers=headers)
    assert (other.status_code, other.json()["code"]) == (401, "signature_invalid")


async def test_concurrent_puts_of_one_statement_store_it_once(world: World) -> None:
    sid = uuid.uuid4()
    path = f"/xapi/statements?statementId={sid}"
    sent = [world.signed("PUT", path, completed(world), headers=XAPI) for _ in range(4)]
    answers = await asyncio.gather(*sent)
    assert [r.status_code for r in answers] == [204] * 4
    assert await world.scalar("SELECT count(*) FROM learning.xapi_statements") == 1
    assert (await world.outbox_types()).count("learning.course_completed") == 1


async def test_odd_statements_are_problems_not_crashes(world: World) -> None:
    odd_extensions = completed(
        world, object={"id": "https://zhixue.example/a/y", "definition": {"extensions": [1]}}
    )
    cases = [
        completed(world, verb={"id": "http://x.cn/" + "v" * 600}),
        completed(world, verb={"id": "http://x.cn/\u0000"}),
        odd_extensions,  # an extensions property must be an object (xAPI 4.1)
        completed(world, timestamp="0001-01-01T00:00:00+14:00"),  # before year 1 in UTC
    ]
    for statement in cases:
        r = await post(world, statement)
        assert r.status_code == 400, (statement, r.text)
        assert r.headers["content-type"] == "application/problem+json"
    assert await world.scalar("SELECT count(*) FROM learning.xapi_statements") == 0


async def test_behind_the_gateway_a_read_signs_the_path_the_caller_sent(world: World) -> None:
    sid = uuid.uuid4()
    await put(world, sid, completed(world))
    prefix = {"X-Forwarded-Prefix": "/api/v1/learning"}
    sent = f"/api/v1/learning/xapi/statements?statementId={sid}"
    local = f"/xapi/statements?statementId={sid}"
    ok = await world.client.get(local, headers={**XAPI, **prefix, **world.sign(sent.encode())})
    assert ok.status_code == 200
    bad = await world.client.get(local, headers={**XAPI, **prefix, **world.sign(local.encode())})
    assert (bad.status_code, bad.json()["code"]) == (401, "signature_invalid")


async def test_voiding_the_completion_that_met_the_rules_unmeets_them(world: World) -> None:
    await world.seed_rules(min_hours="2")
    sid = uuid.uuid4()
    await post(world, completed(world, sid))
    assert "learning.requirements_met" in await world.outbox_types()
    await post(world, voiding(sid))
    types = await world.outbox_types()
    assert types[-2:] == ["learning.course_completion_revoked", "learning.requirements_unmet"]


async def test_the_about_resource_needs_no_credentials(world: World) -> None:
    r = await world.client.get("/xapi/about")
    assert r.status_code == 200
    assert r.json() == {"version": ["1.0.3"]}
    assert r.headers["X-Experience-API-Version"] == "1.0.3"
