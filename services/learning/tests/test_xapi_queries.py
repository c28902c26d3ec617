"""Providers find their statements (xAPI 1.0.3 §2.1.3) on a real database: every filter of the
spec, ascending order, the ids format, statements voiding a match, HEAD, and
X-Experience-API-Consistent-Through on every answer of a read, refusals included."""

from __future__ import annotations

import uuid
from typing import Any
from urllib.parse import urlencode

import orjson

from services.learning.tests.test_providers_support import XAPI, World, world
from services.learning.tests.test_xapi import VOIDED, get, post, put

__all__ = ["world"]

ATTENDED = "http://adlnet.gov/expapi/verbs/attended"
MEETING = "http://www.example.com/meetings/34534"
LI = {"objectType": "Agent", "mbox": "mailto:li@school.cn"}
WANG = {"objectType": "Agent", "account": {"homePage": "https://zhixue.example", "name": "wang"}}


def attended(actor: dict[str, Any], **over: Any) -> dict[str, Any]:
    return {
        "actor": actor,
        "verb": {"id": ATTENDED, "display": {"en-US": "attended", "zh-CN": "参加"}},
        "object": {"id": MEETING, "definition": {"name": {"en-US": "Meeting", "zh-CN": "会议"}}},
        **over,
    }


async def ids(w: World, **query: Any) -> list[str]:
    r = await get(w, urlencode(query))
    assert r.status_code == 200, r.text
    return [s["id"] for s in r.json()["statements"]]


async def store(w: World, *statements: dict[str, Any]) -> list[str]:
    r = await post(w, list(statements))
    assert r.status_code == 200, r.text
    return list(r.json())


async def test_agent_matches_actor_or_object_and_related_agents_reach_further(world: World) -> None:
    by_li, about_li, li_teaches = await store(
        world,
        attended(LI),
        attended(WANG, object=LI),
        attended(WANG, context={"instructor": LI}),
    )
    li = orjson.dumps({"mbox": "mailto:li@school.cn"}).decode()

    assert set(await ids(world, agent=li)) == {by_li, about_li}
    assert set(await ids(world, agent=li, related_agents="true")) == {by_li, about_li, li_teaches}
    r = await get(world, urlencode({"agent": '{"name": "no identifier"}'}))
    assert (r.status_code, r.json()["code"]) == (400, "xapi_bad_query")


async def test_activity_matches_the_object_and_related_activities_the_context(
    world: World,
) -> None:
    in_context = {"contextActivities": {"parent": {"id": MEETING}}}
    direct, nearby = await store(
        world,
        attended(LI),
        attended(LI, object={"id": "http://e.cn/other"}, context=in_context),
    )

    assert await ids(world, activity=MEETING) == [direct]
    assert set(await ids(world, activity=MEETING, related_activities="true")) == {direct, nearby}
    # Stored as an array, even when sent as one activity.
    r = await get(world, f"statementId={nearby}")
    assert r.json()["context"]["contextActivities"]["parent"] == [{"id": MEETING}]


async def test_registration_ascending_and_limit(world: World) -> None:
    registration = str(uuid.uuid4())
    first, second, _other = await store(
        world,
        attended(LI, context={"registration": registration}),
        attended(WANG, context={"registration": registration.upper()}),
        attended(LI),
    )

    assert await ids(world, registration=registration) == [second, first]
    assert await ids(world, registration=registration, ascending="true") == [first, second]
    r = await get(world, urlencode({"registration": registration, "limit": 1}))
    assert [s["id"] for s in r.json()["statements"]] == [second] and r.json()["more"]


async def test_a_statement_voiding_a_match_is_returned_but_not_the_voided_one(
    world: World,
) -> None:
    verb = f"http://e.cn/verbs/{uuid.uuid4()}"
    target = uuid.uuid4()
    (kept,) = await store(world, attended(LI, id=str(target), verb={"id": verb}))
    void_id = uuid.uuid4()
    voiding = {
        "actor": LI,
        "verb": {"id": VOIDED},
        "object": {"objectType": "StatementRef", "id": str(target)},
    }
    assert (await put(world, void_id, voiding)).status_code == 204

    assert await ids(world, verb=verb) == [str(void_id)]
    assert kept == str(target)


async def test_ids_and_canonical_formats(world: World) -> None:
    (sid,) = await store(world, attended(LI | {"name": "李老师"}))

    r = await get(world, urlencode({"statementId": sid, "format": "ids"}))
    shown = r.json()
    assert shown["actor"] == LI and shown["verb"] == {"id": ATTENDED}
    assert shown["object"] == {"id": MEETING}
    canonical = await world.signed(
        "GET",
        f"/xapi/statements?{urlencode({'statementId': sid, 'format': 'canonical'})}",
        headers=XAPI | {"Accept-Language": "zh-CN"},
    )
    assert canonical.json()["verb"]["display"] == {"zh-CN": "参加"}


async def test_every_read_answer_says_how_consistent_it_is_and_head_has_no_body(
    world: World,
) -> None:
    await store(world, attended(LI))
    bad = await get(world, urlencode({"statementId": str(uuid.uuid4()), "verb": ATTENDED}))
    assert bad.status_code == 400
    assert "X-Experience-API-Consistent-Through" in bad.headers
    ok = await get(world, "limit=1")
    assert ok.status_code == 200 and "X-Experience-API-Consistent-Through" in ok.headers
    head = await world.signed("HEAD", "/xapi/statements", headers=XAPI)
    assert head.status_code == 200 and head.content == b""


async def test_put_without_a_statement_id_and_odd_queries_are_400s(world: World) -> None:
    r = await world.signed("PUT", "/xapi/statements", attended(LI), headers=XAPI)
    assert (r.status_code, r.json()["code"]) == (400, "xapi_bad_query")
    for query in (
        {"limit": "-1"},
        {"limit": "9" * 5000},
        {"since": "0001-01-01T00:00:00+14:00"},
        {"until": "not a time"},
        {"format": "Exact"},
        {"ascending": "yes"},
        {"Verb": ATTENDED},
    ):
        r = await get(world, urlencode(query))
        assert r.status_code == 400, (query, r.text)
        assert r.headers["content-type"] == "application/problem+json"
    calendar_ends = {"since": "0001-01-01T00:00:00Z", "until": "9999-12-31T23:59:59Z"}
    assert (await get(world, urlencode(calendar_ends))).status_code == 200
