"""学员账号关联 (issue #16): a provider links one of its xAPI agents (mbox, openid, its own
account…) to a platform teacher; completion statements by that agent then count as a teacher
account's do, those that were waiting included. A link is the provider's own; removing it
undoes nothing that counted."""

from __future__ import annotations

import uuid
from typing import Any
from urllib.parse import urlencode

import httpx
import orjson
from sqlalchemy import text

from services.learning.tests.test_providers_scope import other_provider
from services.learning.tests.test_providers_support import XAPI, World, world
from services.learning.tests.test_xapi import completed
from services.learning.tests.test_xapi_store_first import (
    completions_of,
    mapping,
    register,
    stored_ids,
)

__all__ = ["world"]

LI = {"mbox": "mailto:li@school.cn"}
OWN_ACCOUNT = {"account": {"homePage": "https://lms.zhixue.example", "name": "u-1001"}}
PROBLEM = "application/problem+json"


async def link(w: World, agent: Any, teacher_id: uuid.UUID, **kw: Any) -> httpx.Response:
    body = {"agent": agent, "teacher_id": str(teacher_id)}
    return await w.signed("PUT", "/xapi/links", body, **kw)


async def unlink(w: World, agent: Any, **kw: Any) -> httpx.Response:
    return await w.signed("DELETE", f"/xapi/links?{urlencode({'agent': _json(agent)})}", **kw)


async def links(w: World, **query: Any) -> httpx.Response:
    return await w.signed("GET", f"/xapi/links?{urlencode(query)}" if query else "/xapi/links")


def _json(agent: Any) -> str:
    return orjson.dumps(agent).decode()


def own_course(code: str) -> dict[str, Any]:
    """A course of the provider's own (not in the catalogue): title, category and hours."""
    ext = "https://yanxiu.example/xapi/extensions/"
    return {
        "objectType": "Activity",
        "id": f"https://zhixue.example/activities/{code}",
        "definition": {
            "name": {"zh-CN": "班级管理实务"},
            "extensions": {ext + "hours": 1.5, ext + "category": "general_elective"},
        },
    }


async def test_a_waiting_completion_by_an_mbox_counts_once_the_provider_links_it(
    world: World,
) -> None:
    (sid,) = await stored_ids(world, completed(world, actor=LI))
    waiting = await mapping(world, sid)
    assert (waiting["status"], waiting["code"]) == ("waiting", "xapi_actor_unmapped")
    assert "/xapi/links" in waiting["detail"]

    # No X-Experience-API-Version: a platform resource; objectType and name are not kept.
    r = await link(world, {"objectType": "Agent", "name": "李老师", **LI}, world.teacher_id)

    assert r.status_code == 200, r.text
    body = r.json()
    assert (body["agent"], body["teacher_id"]) == (LI, str(world.teacher_id))
    assert (body["retried"], body["outcomes"]) == (1, {"counted": 1})
    m = await mapping(world, sid)
    assert (m["status"], m["code"]) == ("counted", None) and m["completion_id"]
    assert await completions_of(world, world.teacher_id) == 1
    assert (await world.outbox_types()).count("learning.course_completed") == 1


async def test_later_statements_by_a_linked_agent_count_as_a_teacher_accounts_do(
    world: World,
) -> None:
    r = await link(world, LI, world.teacher_id)
    assert (r.json()["retried"], r.json()["outcomes"]) == (0, {})

    ids = await stored_ids(
        world,
        [
            completed(world, actor=LI),
            completed(world, actor=LI),
            completed(world, actor=LI, object=own_course("CM-01")),
        ],
    )

    statuses = [(await mapping(world, i))["status"] for i in ids]
    assert statuses == ["counted", "already_counted", "counted"]
    assert await completions_of(world, world.teacher_id) == 2


async def test_a_linked_agent_whose_teacher_has_no_plan_waits_until_they_register(
    world: World,
) -> None:
    newcomer = uuid.uuid4()
    (sid,) = await stored_ids(world, completed(world, actor=OWN_ACCOUNT))

    r = await link(world, OWN_ACCOUNT, newcomer)

    assert (r.json()["retried"], r.json()["outcomes"]) == (1, {"waiting": 1})
    m = await mapping(world, sid)
    assert (m["status"], m["code"]) == ("waiting", "learner_not_registered")
    assert m["teacher_id"] == str(newcomer)

    await register(world, newcomer)

    assert (await mapping(world, sid))["status"] == "counted"
    assert await completions_of(world, newcomer) == 1


async def test_linking_again_replaces_the_link_and_its_waiting_statements_follow(
    world: World,
) -> None:
    await link(world, LI, uuid.uuid4())
    (sid,) = await stored_ids(world, completed(world, actor=LI))
    assert (await mapping(world, sid))["code"] == "learner_not_registered"

    r = await link(world, LI, world.teacher_id)

    assert (r.json()["retried"], r.json()["outcomes"]) == (1, {"counted": 1})
    assert await world.scalar("SELECT count(*) FROM learning.xapi_account_links") == 1
    listed = (await links(world, agent=_json(LI))).json()["items"]
    assert [i["teacher_id"] for i in listed] == [str(world.teacher_id)]


async def test_a_providers_link_never_maps_another_providers_statements(world: World) -> None:
    _, key_b, secret_b = await other_provider(world)
    as_b: dict[str, Any] = {"key_id": key_b, "secret": secret_b}
    r = await world.signed(
        "POST", "/xapi/statements", completed(world, actor=LI), headers=XAPI, **as_b
    )
    assert r.status_code == 200, r.text
    (sid_b,) = r.json()

    r = await link(world, LI, world.teacher_id)
    assert (r.json()["retried"], r.json()["outcomes"]) == (0, {})

    got = await world.signed("GET", f"/xapi/mappings?statementId={sid_b}", headers=XAPI, **as_b)
    (m,) = got.json()["items"]
    assert (m["status"], m["code"]) == ("waiting", "xapi_actor_unmapped")
    assert (await world.signed("GET", "/xapi/links", **as_b)).json()["items"] == []
    refused = await unlink(world, LI, **as_b)
    assert (refused.status_code, refused.json()["code"]) == (404, "xapi_account_link_not_found")
    assert (
        await world.scalar(
            "SELECT count(*) FROM learning.xapi_account_links WHERE provider_id = :p",
            p=uuid.UUID(world.provider_id),
        )
        == 1
    )


async def test_a_malformed_agent_is_a_400_problem(world: World) -> None:
    bad_agents: list[Any] = [
        {},
        {"name": "no identifier"},
        {"mbox": "mailto:a@b.cn", "openid": "https://id.example/a"},
        {"objectType": "Group", "mbox": "mailto:a@b.cn"},
        {"mbox": "li@school.cn"},
        {"mbox": "mailto:a@b.cn", "colour": "blue"},
        {"account": {"homePage": "not an iri", "name": "u1"}},
        "mailto:a@b.cn",
        None,
    ]
    for agent in bad_agents:
        r = await link(world, agent, world.teacher_id)
        assert r.status_code == 400, (agent, r.text)
        assert r.headers["content-type"] == PROBLEM and r.json()["code"] == "xapi_agent_invalid"
    for r in [
        await links(world, agent="not json"),
        await links(world, agent=_json({"name": "x"})),
        await unlink(world, {"openid": "nope"}),
    ]:
        assert (r.status_code, r.json()["code"]) == (400, "xapi_agent_invalid"), r.text
    assert await world.scalar("SELECT count(*) FROM learning.xapi_account_links") == 0


async def test_a_platform_account_is_its_teacher_already_and_needs_no_link(
    world: World,
) -> None:
    account = {"account": {"homePage": "https://yanxiu.example/", "name": str(uuid.uuid4())}}

    r = await link(world, account, world.teacher_id)

    assert (r.status_code, r.json()["code"]) == (422, "xapi_link_platform_account")


async def test_unlinking_is_a_204_then_a_404_and_keeps_what_counted(world: World) -> None:
    (counted,) = await stored_ids(world, completed(world, actor=LI))
    await link(world, LI, world.teacher_id)

    first = await unlink(world, LI)
    again = await unlink(world, LI)

    assert first.status_code == 204, first.text
    assert (again.status_code, again.json()["code"]) == (404, "xapi_account_link_not_found")
    assert again.headers["content-type"] == PROBLEM
    assert (await mapping(world, counted))["status"] == "counted"
    assert await completions_of(world, world.teacher_id) == 1
    (later,) = await stored_ids(world, completed(world, actor=LI))
    assert (await mapping(world, later))["code"] == "xapi_actor_unmapped"


async def test_links_are_listed_oldest_first_in_pages_by_agent_or_teacher(world: World) -> None:
    other = uuid.uuid4()
    agents = [{"mbox": f"mailto:t{i}@school.cn"} for i in range(3)]
    for agent, teacher in zip(agents, [world.teacher_id, world.teacher_id, other], strict=True):
        assert (await link(world, agent, teacher)).status_code == 200

    page = (await links(world, limit=2)).json()
    assert [i["agent"] for i in page["items"]] == agents[:2]
    rest = (await links(world, limit=2, cursor=page["next_cursor"])).json()
    assert [i["agent"] for i in rest["items"]] == agents[2:] and rest["next_cursor"] is None
    mine = (await links(world, teacher_id=str(world.teacher_id))).json()["items"]
    assert [i["agent"] for i in mine] == agents[:2]
    one = (await links(world, agent=_json(agents[2]))).json()["items"]
    assert [(i["agent"], i["teacher_id"]) for i in one] == [(agents[2], str(other))]


async def test_linking_and_unlinking_are_audited_without_the_identifier_in_clear(
    world: World,
) -> None:
    await link(world, LI, world.teacher_id)
    await link(world, LI, world.teacher_id)  # the same link again changes nothing
    await unlink(world, LI)

    async with world.rt.engine.connect() as conn:
        rows = (
            await conn.execute(
                text(
                    "SELECT action, actor_id, actor_role, target_id, before::text, after::text"
                    " FROM learning.audit_log WHERE action LIKE 'provider.%link_account'"
                    " ORDER BY id"
                )
            )
        ).all()
    assert [(r[0], r[1], r[2], r[3]) for r in rows] == [
        ("provider.link_account", "provider:zhixue", "provider", str(world.teacher_id)),
        ("provider.unlink_account", "provider:zhixue", "provider", str(world.teacher_id)),
    ]
    assert not any("li@school.cn" in (r[4] or "") + (r[5] or "") for r in rows)
