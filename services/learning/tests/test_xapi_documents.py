"""xAPI document resources on a real database: State, Activity Profile and Agent Profile documents
kept as sent with their ETag, merged on POST, guarded by If-Match / If-None-Match, listed by id,
deleted; each provider sees only its own; the Activities and Agents resources."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

import orjson

from services.learning.tests.test_providers_support import XAPI, World, world
from services.learning.tests.test_xapi import post

__all__ = ["world"]

ACTIVITY = "https://yanxiu.example/xapi/courses/SD-ETH-01"
AGENT = orjson.dumps({"objectType": "Agent", "mbox": "mailto:li@school.cn"}).decode()
STATE = {"activityId": ACTIVITY, "agent": AGENT}


async def send(
    w: World,
    method: str,
    resource: str,
    params: dict[str, str],
    body: bytes = b"",
    headers: dict[str, str] | None = None,
) -> Any:
    path = f"/xapi/{resource}" + (f"?{urlencode(params)}" if params else "")
    all_headers = XAPI | {"Content-Type": "application/json"} | (headers or {})
    signed = path.encode() if method in ("GET", "HEAD", "DELETE") else body
    all_headers |= w.sign(signed)
    return await w.client.request(method, path, content=body, headers=all_headers)


async def test_a_state_is_kept_as_sent_listed_and_deleted(world: World) -> None:
    bookmark = STATE | {"stateId": "bookmark"}
    r = await send(
        world, "PUT", "activities/state", bookmark, b"page 3", {"Content-Type": "text/plain"}
    )
    assert r.status_code == 204, r.text
    got = await send(world, "GET", "activities/state", bookmark)
    assert (got.status_code, got.content) == (200, b"page 3")
    assert got.headers["content-type"].startswith("text/plain") and got.headers["etag"]
    await send(world, "PUT", "activities/state", STATE | {"stateId": "score"}, b"{}")

    listed = await send(world, "GET", "activities/state", STATE)
    assert sorted(listed.json()) == ["bookmark", "score"]
    assert (await send(world, "DELETE", "activities/state", bookmark)).status_code == 204
    assert (await send(world, "GET", "activities/state", bookmark)).status_code == 404
    assert (await send(world, "DELETE", "activities/state", STATE)).status_code == 204
    assert (await send(world, "GET", "activities/state", STATE)).json() == []


async def test_post_merges_json_objects_and_refuses_anything_else(world: World) -> None:
    notes = {"activityId": ACTIVITY, "profileId": "notes"}
    await send(world, "POST", "activities/profile", notes, b'{"a": 1, "b": {"c": 1}}')
    await send(world, "POST", "activities/profile", notes, b'{"b": {"d": 2}, "e": 3}')

    merged = await send(world, "GET", "activities/profile", notes)
    assert merged.json() == {"a": 1, "b": {"d": 2}, "e": 3}  # one level deep
    r = await send(world, "POST", "activities/profile", notes, b"[1, 2]")
    assert r.status_code == 400
    r = await send(world, "POST", "activities/profile", notes, b"{", {})
    assert r.status_code == 400


async def test_a_profile_is_replaced_only_knowingly(world: World) -> None:
    profile = {"agent": AGENT, "profileId": "prefs"}
    assert (await send(world, "PUT", "agents/profile", profile, b'{"v": 1}')).status_code == 400
    create = {"If-None-Match": "*"}
    assert (
        await send(world, "PUT", "agents/profile", profile, b'{"v": 1}', create)
    ).status_code == 204
    assert (
        await send(world, "PUT", "agents/profile", profile, b'{"v": 2}', create)
    ).status_code == 412
    assert (await send(world, "PUT", "agents/profile", profile, b'{"v": 2}')).status_code == 409
    etag = (await send(world, "GET", "agents/profile", profile)).headers["etag"]
    stale = {"If-Match": '"0000000000000000000000000000000000000000"'}
    assert (
        await send(world, "PUT", "agents/profile", profile, b'{"v": 2}', stale)
    ).status_code == 412
    fresh = {"If-Match": etag}
    assert (
        await send(world, "PUT", "agents/profile", profile, b'{"v": 2}', fresh)
    ).status_code == 204
    assert (await send(world, "GET", "agents/profile", profile)).json() == {"v": 2}


async def test_missing_or_malformed_parameters_are_400s(world: World) -> None:
    for resource, params in (
        ("activities/state", {"activityId": ACTIVITY, "stateId": "s"}),
        ("activities/state", STATE | {"stateId": "s", "registration": "not-a-uuid"}),
        ("activities/state", {"activityId": ACTIVITY, "agent": "{not json", "stateId": "s"}),
        ("activities/profile", {"profileId": "p"}),
        ("agents/profile", {"agent": AGENT, "profileId": "p", "ProfileId": "p"}),
        ("activities", {}),
        ("agents", {"agent": '{"name": "no identifier"}'}),
    ):
        r = await send(world, "GET", resource, params)
        assert r.status_code == 400, (resource, params, r.text)
        assert r.headers["content-type"] == "application/problem+json"


async def test_each_provider_sees_only_its_own_documents(world: World) -> None:
    bookmark = STATE | {"stateId": "bookmark"}
    await send(world, "PUT", "activities/state", bookmark, b"mine")
    created = await world.client.post(
        "/providers", json={"code": "other", "name": "另一家"}, headers=world.admin
    )
    key = await world.client.post(f"/providers/{created.json()['id']}/keys", headers=world.admin)
    other = {"key_id": key.json()["key_id"], "secret": key.json()["secret"]}
    path = f"/xapi/activities/state?{urlencode(bookmark)}"
    r = await world.client.get(path, headers=XAPI | world.sign(path.encode(), **other))
    assert r.status_code == 404


async def test_activities_and_agents_resources(world: World) -> None:
    described = {
        "actor": {"mbox": "mailto:li@school.cn"},
        "verb": {"id": "http://adlnet.gov/expapi/verbs/attended"},
        "object": {"id": ACTIVITY, "definition": {"name": {"zh-CN": "师德师风建设"}}},
    }
    again = described | {
        "object": {"id": ACTIVITY, "definition": {"name": {"en-US": "Teachers' ethics"}}}
    }
    assert (await post(world, [described, again])).status_code == 200

    r = await send(world, "GET", "activities", {"activityId": ACTIVITY})
    assert r.json()["definition"]["name"] == {"zh-CN": "师德师风建设", "en-US": "Teachers' ethics"}
    person = await send(world, "GET", "agents", {"agent": AGENT})
    assert person.json() == {"objectType": "Person", "mbox": ["mailto:li@school.cn"]}
