"""Store first, map after (issue #16): every valid statement is stored and answered per the spec;
what a completion statement became is read in `GET /xapi/mappings`, never as a refused write.
Statements waiting for their teacher's plan or their course count when it appears; a course
counts once per teacher and project however many statements describe it."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any

from learning import consumers
from services.learning.tests.test_providers_support import HOME_PAGE, LIXIA, XAPI, World, world
from services.learning.tests.test_xapi import completed, get, post
from yanxiu.contracts.enrollment import TeacherRegistered
from yanxiu.contracts.envelope import OrgPath

__all__ = ["world"]


async def mapping(w: World, statement_id: uuid.UUID | str) -> dict[str, Any]:
    r = await w.signed("GET", f"/xapi/mappings?statementId={statement_id}", headers=XAPI)
    assert r.status_code == 200, r.text
    (found,) = r.json()["items"]
    return dict(found)


async def stored_ids(w: World, payload: Any) -> list[str]:
    r = await post(w, payload)
    assert r.status_code == 200, r.text
    return list(r.json())


async def completions_of(w: World, teacher_id: uuid.UUID) -> int:
    return int(
        await w.scalar(
            "SELECT count(*) FROM learning.completions"
            " WHERE teacher_id = :t AND revoked_at IS NULL",
            t=teacher_id,
        )
    )


async def register(w: World, teacher_id: uuid.UUID) -> None:
    """Enrollment's TeacherRegistered for the world's project, as the consumer receives it."""
    event = TeacherRegistered(
        registration_id=uuid.uuid4(),
        project_id=w.project_id,
        project_year=2026,
        teacher_id=teacher_id,
        teacher_name="新来的老师",
        stage="primary",
        subject="语文",
        is_rural=False,
        org=OrgPath(province_id=LIXIA[0], city_id=LIXIA[1], county_id=LIXIA[2], school_id=LIXIA[3]),
        registered_at=datetime.now(UTC),
    )
    async with w.rt.session_factory() as session, session.begin():
        await consumers.on_teacher_registered(session, [event])


async def add_course(w: World, code: str) -> None:
    """A province admin adds a course to the catalogue (waiting statements are tried again)."""
    body = {
        "code": code,
        "title": "新课程",
        "kind": "elective",
        "scope": "subject",
        "hours": "2",
        "stages": ["primary"],
        "video_seconds": 600,
    }
    r = await w.client.post("/courses", json=body, headers=w.admin)
    assert r.status_code == 201, r.text


async def test_a_completion_by_an_actor_who_is_no_teacher_account_is_stored_and_waits(
    world: World,
) -> None:
    (sid,) = await stored_ids(world, completed(world, actor={"mbox": "mailto:li@school.cn"}))

    r = await get(world, f"statementId={sid}")
    assert r.status_code == 200 and r.json()["actor"]["mbox"] == "mailto:li@school.cn"
    m = await mapping(world, sid)
    assert (m["status"], m["code"], m["completion_id"]) == ("waiting", "xapi_actor_unmapped", None)
    assert "homePage" in m["detail"]


async def test_one_statement_that_cannot_count_leaves_the_rest_of_its_batch_counted(
    world: World,
) -> None:
    unknown_teacher = {"account": {"homePage": HOME_PAGE, "name": str(uuid.uuid4())}}
    stranger = completed(world, actor=unknown_teacher)
    ids = await stored_ids(world, [stranger, completed(world)])

    assert [(await mapping(world, i))["status"] for i in ids] == ["waiting", "counted"]
    assert (await mapping(world, ids[0]))["code"] == "learner_not_registered"
    assert (await world.outbox_types()).count("learning.course_completed") == 1
    assert await completions_of(world, world.teacher_id) == 1


async def test_a_waiting_statement_counts_when_its_teacher_registers_for_the_project(
    world: World,
) -> None:
    newcomer = uuid.uuid4()
    actor = {"account": {"homePage": HOME_PAGE, "name": str(newcomer)}}
    (sid,) = await stored_ids(world, completed(world, actor=actor))
    assert (await mapping(world, sid))["status"] == "waiting"

    await register(world, newcomer)

    m = await mapping(world, sid)
    assert (m["status"], m["code"]) == ("counted", None) and m["completion_id"]
    assert await completions_of(world, newcomer) == 1


async def test_a_waiting_statement_counts_when_its_course_is_added_to_the_catalogue(
    world: World,
) -> None:
    code = f"SD-NEW-{uuid.uuid4().hex[:6]}"
    later = {"objectType": "Activity", "id": f"https://yanxiu.example/xapi/courses/{code}"}
    (sid,) = await stored_ids(world, completed(world, object=later))
    m = await mapping(world, sid)
    assert (m["status"], m["code"], m["course_key"]) == ("waiting", "course_unresolvable", code)

    await add_course(world, code)

    assert (await mapping(world, sid))["status"] == "counted"
    assert await completions_of(world, world.teacher_id) == 1


async def test_another_sites_account_named_like_a_teacher_still_waits_when_retried(
    world: World,
) -> None:
    """A retry maps against the platform's home page stored with the statement, not the
    actor's own: another site's account whose name is a teacher id is not that teacher."""
    code = f"SD-NEW-{uuid.uuid4().hex[:6]}"
    stranger = {"homePage": "https://other-lms.example", "name": str(world.teacher_id)}
    (sid,) = await stored_ids(
        world,
        completed(
            world,
            actor={"objectType": "Agent", "account": stranger},
            object={"objectType": "Activity", "id": f"https://yanxiu.example/xapi/courses/{code}"},
        ),
    )
    assert (await mapping(world, sid))["code"] == "xapi_actor_unmapped"
    await add_course(world, code)
    m = await mapping(world, sid)
    assert (m["status"], m["code"]) == ("waiting", "xapi_actor_unmapped")
    assert await completions_of(world, world.teacher_id) == 0


async def test_a_statement_that_can_never_count_is_stored_as_unmappable(world: World) -> None:
    no_project = completed(world, context={})
    future = completed(world, timestamp="2099-01-01T00:00:00Z")
    odd_hours = completed(
        world,
        object={
            "id": "https://zhixue.example/activities/x",
            "definition": {"extensions": {"https://yanxiu.example/xapi/extensions/hours": "NaN"}},
        },
    )
    ids = await stored_ids(world, [no_project, future, odd_hours])

    found = [await mapping(world, i) for i in ids]
    assert [m["status"] for m in found] == ["unmappable"] * 3
    assert found[0]["code"] == "xapi_project_missing"
    # The problem in words too, Chinese with English beside it.
    assert "项目编号" in found[0]["detail"] and "project id" in found[0]["detail"]
    assert all(m["detail"] for m in found)
    assert await completions_of(world, world.teacher_id) == 0
    assert await world.scalar("SELECT count(*) FROM learning.xapi_statements") == 3


async def test_a_course_counts_once_however_many_statements_describe_it(world: World) -> None:
    ids = await stored_ids(world, [completed(world), completed(world)])
    (third,) = await stored_ids(world, completed(world))

    statuses = [(await mapping(world, i))["status"] for i in [*ids, third]]
    assert statuses == ["counted", "already_counted", "already_counted"]
    assert await completions_of(world, world.teacher_id) == 1


async def test_mappings_filter_by_status_and_page_newest_first(world: World) -> None:
    stranger = completed(world, actor={"mbox": "mailto:a@b.cn"})
    ids = await stored_ids(world, [stranger, completed(world), stranger | {}, completed(world)])

    r = await world.signed("GET", "/xapi/mappings?status=waiting&limit=1", headers=XAPI)
    page = r.json()
    assert r.status_code == 200 and [m["statement_id"] for m in page["items"]] == [ids[2]]
    nxt = page["next_cursor"]
    r = await world.signed(
        "GET", f"/xapi/mappings?status=waiting&limit=1&cursor={nxt}", headers=XAPI
    )
    assert [m["statement_id"] for m in r.json()["items"]] == [ids[0]]
    assert r.json()["next_cursor"] is None
    r = await world.signed("GET", "/xapi/mappings?status=lost", headers=XAPI)
    assert r.status_code == 422 and r.headers["content-type"] == "application/problem+json"
