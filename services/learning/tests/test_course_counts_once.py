"""A course counts once per teacher per project, whatever the channel (issue #14): the same
course via a provider under two event ids, via two xAPI statements, via the platform and a
provider, counts its hours once; a later attempt may raise the best score; retracting the
counted completion lets the attempt count; completions dated outside the project's year or
learning window (1900-01-01) are refused, or held for an admin where the rule set says so;
the database keeps one live completion per course; migration 0009 resolves old duplicates."""

from __future__ import annotations

import asyncio
import json
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import pytest
import pytest_asyncio
from alembic import command
from sqlalchemy import text
from sqlalchemy.exc import IntegrityError

from learning.attainment.service import record_completion
from learning.rules import repository as rules_repo
from services.learning.tests.test_providers_support import HOME_PAGE, LIXIA, XAPI, World, world
from yanxiu.contracts.learning import course_key_for
from yanxiu.devstack.paths import service_dir
from yanxiu.devstack.postgres import create_database, drop_database, with_database
from yanxiu.kit.db import asyncpg_url, make_engine
from yanxiu.kit.migrations import alembic_config

__all__ = ["world"]

COMPLETED = "http://adlnet.gov/expapi/verbs/completed"
PROJECT_EXT = "https://yanxiu.example/xapi/extensions/project-id"
HOURS_EXT = "https://yanxiu.example/xapi/extensions/hours"
CATEGORY_EXT = "https://yanxiu.example/xapi/extensions/category"
OWN_6H = {"code": "ZX-CLASS-06", "title": "班级管理", "category": "general_elective", "hours": "6"}
OTHER_COUNTY = ["370000", "370100", "370103"]


async def put_rules(w: World, **extra: Any) -> None:
    """One bucket of general hours (no cap), the project's year 2026, and `extra`."""
    doc = {
        "code": "counts-once",
        "name": "一门课程只计一次",
        "buckets": [
            {
                "code": "general",
                "name": "通识",
                "categories": ["general_required", "general_elective"],
                "min_hours": "40",
            }
        ],
        "total_min_hours": "40",
        **extra,
    }
    async with w.rt.session_factory() as session, session.begin():
        await rules_repo.put(
            session,
            project_id=w.project_id,
            year=2026,
            code="counts-once",
            ruleset=doc,
            assigned_by="test",
        )


async def hours(w: World) -> Decimal:
    """The teacher's counted hours, as the teacher reads them."""
    token = w.token_for("teacher", LIXIA, teacher_id=str(w.teacher_id))
    r = await w.client.get(
        f"/plans/{w.teacher_id}/progress", headers={"Authorization": f"Bearer {token}"}
    )
    assert r.status_code == 200, r.text
    return Decimal(r.json()["items"][0]["total_hours"])


def statement(w: World, activity: str, **over: Any) -> dict[str, Any]:
    stmt: dict[str, Any] = {
        "id": str(uuid.uuid4()),
        "actor": {"account": {"homePage": HOME_PAGE, "name": str(w.teacher_id)}},
        "verb": {"id": COMPLETED},
        "object": {
            "id": activity,
            "definition": {
                "name": {"zh-CN": "信息技术应用能力提升"},
                "extensions": {HOURS_EXT: 8, CATEGORY_EXT: "general_elective"},
            },
        },
        "context": {"extensions": {PROJECT_EXT: str(w.project_id)}},
        "timestamp": "2026-11-02T08:00:00+08:00",
    }
    stmt.update(over)
    return stmt


async def live_completions(w: World) -> list[tuple[str, str, Decimal | None]]:
    async with w.rt.engine.connect() as conn:
        rows = await conn.execute(
            text(
                "SELECT source, source_ref, best_score FROM learning.completions"
                " WHERE teacher_id = :t AND revoked_at IS NULL ORDER BY created_at"
            ),
            {"t": w.teacher_id},
        )
        return [(r[0], r[1], r[2]) for r in rows]


def admin(w: World, role: str, org: list[str]) -> dict[str, str]:
    return {"Authorization": f"Bearer {w.token_for(role, org)}"}


async def test_a_provider_course_resent_under_a_new_event_id_counts_once(world: World) -> None:
    await put_rules(world)
    first = await world.post_completion(world.completion("evt-1", course=OWN_6H))
    assert (first.status_code, first.json()["status"]) == (201, "recorded")
    assert await hours(world) == 6
    again = await world.post_completion(world.completion("evt-2", course=OWN_6H))
    assert again.status_code == 201, again.text
    body = again.json()
    assert body["status"] == "already_counted"
    assert body["completion_id"] == first.json()["completion_id"]
    assert body["attempt_id"] is not None
    assert await hours(world) == 6
    assert (await world.outbox_types()).count("learning.course_completed") == 1


async def test_a_providers_own_course_is_one_course_by_code_whatever_its_spelling(
    world: World,
) -> None:
    await world.post_completion(world.completion("evt-1", course=OWN_6H))
    respelt = {**OWN_6H, "code": " zx-class-06 ", "title": "班级管理（第二版）"}
    r = await world.post_completion(world.completion("evt-2", course=respelt))
    assert r.json()["status"] == "already_counted"
    untitled = {k: v for k, v in OWN_6H.items() if k != "code"}
    by_title = await world.post_completion(world.completion("evt-3", course=untitled))
    twice = await world.post_completion(
        world.completion("evt-4", course={**untitled, "title": " 班级 管理 "})
    )
    assert (by_title.json()["status"], twice.json()["status"]) == ("recorded", "already_counted")


async def test_a_later_attempt_raises_the_best_score_but_never_the_hours(world: World) -> None:
    await put_rules(world)
    await world.post_completion(world.completion("evt-1", course=OWN_6H, score="70"))
    better = await world.post_completion(world.completion("evt-2", course=OWN_6H, score="90"))
    worse = await world.post_completion(world.completion("evt-3", course=OWN_6H, score="80"))
    assert Decimal(better.json()["best_score"]) == Decimal(worse.json()["best_score"]) == 90
    assert await hours(world) == 6
    assert await live_completions(world) == [
        ("provider", f"{world.provider_id}:evt-1", Decimal("90.0"))
    ]


async def test_two_xapi_statements_for_one_course_count_its_hours_once(world: World) -> None:
    await put_rules(world)
    await world.post_completion(world.completion("evt-1", course=OWN_6H))
    activity = "https://zhixue.example/activities/it-2-0"
    first = statement(world, activity, result={"score": {"scaled": 0.6}})
    second = statement(world, activity, result={"score": {"raw": 45, "min": 0, "max": 50}})
    r1 = await world.signed("POST", "/xapi/statements", first, headers=XAPI)
    r2 = await world.signed("POST", "/xapi/statements", second, headers=XAPI)
    assert (r1.status_code, r2.status_code) == (200, 200), r2.text
    assert r1.headers["X-Yanxiu-Completions"].split(" ")[:2] == [first["id"], "recorded"]
    said = r2.headers["X-Yanxiu-Completions"].split(" ")
    assert said[:2] == [second["id"], "already_counted"]
    assert await hours(world) == 6 + 8  # not 6 + 8 + 8 = 22
    scores = {ref: best for source, ref, best in await live_completions(world) if source == "xapi"}
    assert scores == {first["id"]: Decimal("90.0")}  # 45 of 50 beat 0.6


async def test_the_same_catalogue_course_via_the_platform_a_provider_and_xapi_counts_once(
    world: World,
) -> None:
    await put_rules(world)

    async def watched(session: Any) -> uuid.UUID | None:
        return await record_completion(
            session,
            teacher_id=world.teacher_id,
            project_id=world.project_id,
            source="video",
            source_ref=str(uuid.uuid4()),
            completed_at=datetime(2026, 11, 1, tzinfo=UTC),
            course_id=world.course_id,
            score=Decimal(75),
        )

    async with world.rt.session_factory() as session, session.begin():
        counted = await watched(session)
    assert counted is not None
    provider = await world.post_completion(world.completion("evt-1", score="88"))
    assert provider.json()["status"] == "already_counted"
    assert provider.json()["completion_id"] == str(counted)
    xapi = statement(world, f"https://yanxiu.example/xapi/courses/{world.course_code}")
    r = await world.signed("POST", "/xapi/statements", xapi, headers=XAPI)
    assert r.headers["X-Yanxiu-Completions"] == f"{xapi['id']} already_counted {counted}"
    assert await hours(world) == 2  # the catalogue course's 2 hours, once
    assert await live_completions(world) == [("video", await _video_ref(world), Decimal(88))]


async def _video_ref(w: World) -> str:
    return str(await w.scalar("SELECT source_ref FROM learning.completions WHERE source = 'video'"))


async def test_retracting_the_counted_completion_lets_the_attempt_count(world: World) -> None:
    await put_rules(world)
    await world.post_completion(world.completion("evt-1", course=OWN_6H))
    await world.post_completion(world.completion("evt-2", course=OWN_6H, score="95"))
    gone = await world.signed("DELETE", f"/providers/{world.provider_id}/completions/evt-1")
    assert gone.status_code == 204
    assert await hours(world) == 6
    assert await live_completions(world) == [
        ("provider", f"{world.provider_id}:evt-2", Decimal(95))
    ]
    types = await world.outbox_types()
    assert types[-2:] == ["learning.course_completion_revoked", "learning.course_completed"]
    await world.signed("DELETE", f"/providers/{world.provider_id}/completions/evt-2")
    assert await hours(world) == 0
    # Re-sending a retracted event replays it (the event id stays taken); a new one counts.
    new = await world.post_completion(world.completion("evt-3", course=OWN_6H))
    assert new.json()["status"] == "recorded"
    assert await hours(world) == 6


async def test_retracting_an_attempt_withdraws_it_and_the_count_stays(world: World) -> None:
    await world.post_completion(world.completion("evt-1", course=OWN_6H))
    await world.post_completion(world.completion("evt-2", course=OWN_6H))
    await world.signed("DELETE", f"/providers/{world.provider_id}/completions/evt-2")
    status = await world.scalar(
        "SELECT status FROM learning.completion_attempts WHERE source_ref = :r",
        r=f"{world.provider_id}:evt-2",
    )
    assert status == "withdrawn"
    await world.signed("DELETE", f"/providers/{world.provider_id}/completions/evt-1")
    assert await live_completions(world) == []  # nothing left to count
    assert "learning.course_completion_revoked" in await world.outbox_types()


async def test_a_completion_dated_1900_is_refused(world: World) -> None:
    old = statement(world, "https://zhixue.example/activities/x", timestamp="1900-01-01T00:00:00Z")
    x = await world.signed("POST", "/xapi/statements", old, headers=XAPI)
    # The statement is valid xAPI: stored, and it never counts (store first, map after).
    assert x.status_code == 200, x.text
    (sid,) = x.json()
    m = await world.signed("GET", f"/xapi/mappings?statementId={sid}", headers=XAPI)
    (mapping,) = m.json()["items"]
    assert (mapping["status"], mapping["code"]) == ("unmappable", "completion_outside_window")
    # The webhook's dates are bounded at the door (2000–2100); inside them, the project's year.
    r = await world.post_completion(world.completion(completed_at="1900-01-01T00:00:00+08:00"))
    assert (r.status_code, r.json()["errors"][0]["field"]) == (422, "completed_at")
    r = await world.post_completion(world.completion(completed_at="2025-12-31T23:00:00+08:00"))
    assert (r.status_code, r.json()["code"]) == (422, "completion_outside_window")
    assert await world.scalar("SELECT count(*) FROM learning.completions") == 0
    assert await world.scalar("SELECT count(*) FROM learning.provider_events") == 0
    assert await world.scalar("SELECT count(*) FROM learning.xapi_statements") == 1


async def test_a_completion_outside_the_learning_window_is_refused(world: World) -> None:
    await put_rules(world, windows={"learning": {"opens": "06-01", "closes": "11-15"}})
    late = await world.post_completion(world.completion(completed_at="2026-11-20T09:00:00+08:00"))
    assert (late.status_code, late.json()["code"]) == (422, "completion_outside_window")
    assert late.json()["window"] == "learning"
    assert "2026-06-01" in late.json()["detail"] and "2026-11-15" in late.json()["detail"]
    early = await world.post_completion(world.completion(completed_at="2026-05-31T09:00:00+08:00"))
    assert early.json()["code"] == "completion_outside_window"
    inside = await world.post_completion(world.completion(completed_at="2026-11-15T23:00:00+08:00"))
    assert inside.status_code == 201, inside.text


async def test_a_late_completion_is_held_until_an_admin_in_scope_accepts_it(
    world: World,
) -> None:
    await put_rules(
        world,
        windows={"learning": {"opens": "06-01", "closes": "11-15"}},
        late_completions="hold",
    )
    late = world.completion("evt-late", course=OWN_6H, completed_at="2026-11-20T09:00:00+08:00")
    r = await world.post_completion(late)
    assert (r.status_code, r.json()["status"], r.json()["completion_id"]) == (201, "held", None)
    assert await hours(world) == 0
    early = world.completion("evt-early", completed_at="2026-03-01T09:00:00+08:00")
    assert (await world.post_completion(early)).json()["code"] == "completion_outside_window"

    county = admin(world, "county_admin", LIXIA[:3])
    listed = await world.client.get("/completions/held", headers=county)
    assert listed.status_code == 200, listed.text
    [item] = listed.json()["items"]
    assert (item["id"], item["teacher_name"], item["status"]) == (
        r.json()["attempt_id"],
        "李老师",
        "held",
    )
    elsewhere = admin(world, "county_admin", OTHER_COUNTY)
    assert (await world.client.get("/completions/held", headers=elsewhere)).json()["items"] == []
    decision = f"/completions/held/{item['id']}/decision"
    accept = {"decision": "accept", "reason": "因病补学，经核实 verified"}
    hidden = await world.client.post(decision, json=accept, headers=elsewhere)
    assert (hidden.status_code, hidden.json()["code"]) == (404, "held_completion_not_found")
    teacher = {"Authorization": f"Bearer {world.token_for('teacher', LIXIA)}"}
    assert (await world.client.post(decision, json=accept, headers=teacher)).status_code == 403

    done = await world.client.post(decision, json=accept, headers=county)
    assert done.status_code == 200, done.text
    assert (done.json()["status"], done.json()["completion_id"] is not None) == ("accepted", True)
    assert await hours(world) == 6
    assert (await world.outbox_types()).count("learning.course_completed") == 1
    again = await world.client.post(decision, json=accept, headers=county)
    assert (again.status_code, again.json()["code"]) == (409, "held_completion_decided")
    action = await world.scalar(
        "SELECT action FROM learning.audit_log WHERE target_id = :i", i=item["id"]
    )
    assert action == "completion.decide_held"


async def test_a_rejected_held_completion_never_counts(world: World) -> None:
    await put_rules(
        world,
        windows={"learning": {"opens": "06-01", "closes": "11-15"}},
        late_completions="hold",
    )
    r = await world.post_completion(world.completion(completed_at="2026-11-20T09:00:00+08:00"))
    school = admin(world, "school_admin", LIXIA)
    no = {"decision": "reject", "reason": "完成时间不实 not credible"}
    path = f"/completions/held/{r.json()['attempt_id']}/decision"
    rejected = await world.client.post(path, json=no, headers=school)
    assert rejected.json()["status"] == "rejected"
    assert await hours(world) == 0
    assert "learning.course_completed" not in await world.outbox_types()
    assert (await world.client.get("/completions/held", headers=school)).json()["items"] == []


async def test_the_database_keeps_one_live_completion_per_course(world: World) -> None:
    first = await world.post_completion(world.completion("evt-1", course=OWN_6H))
    assert first.status_code == 201
    engine = make_engine(str(world.rt.settings.database_url))
    try:
        with pytest.raises(IntegrityError, match="uq_completions_live_course"):
            async with engine.begin() as conn:
                await conn.execute(
                    text(
                        "INSERT INTO learning.completions (id, teacher_id, project_id, source,"
                        " source_ref, course_title, category, hours, completed_at, course_key)"
                        " SELECT gen_random_uuid(), teacher_id, project_id, 'provider', 'direct',"
                        " course_title, category, hours, completed_at, course_key"
                        " FROM learning.completions"
                    )
                )
    finally:
        await engine.dispose()


async def test_concurrent_reports_of_one_course_count_it_once(world: World) -> None:
    sent = [world.post_completion(world.completion(f"evt-{i}", course=OWN_6H)) for i in range(4)]
    answers = await asyncio.gather(*sent)
    statuses = sorted(r.json()["status"] for r in answers)
    assert statuses == ["already_counted"] * 3 + ["recorded"]
    assert (await world.outbox_types()).count("learning.course_completed") == 1


# --- migration 0009 on a populated database --------------------------------------------------


@pytest_asyncio.fixture
async def at_0008(pg_server: str) -> AsyncIterator[str]:
    """A database with learning's schema at revision 0008."""
    name = f"yanxiu_test_m0009_{uuid.uuid4().hex[:8]}"
    url = await create_database(pg_server, name)
    try:
        cfg = alembic_config(service_dir("learning"), with_database(pg_server, name))
        await asyncio.to_thread(command.upgrade, cfg, "0008")
        yield asyncpg_url(url)
    finally:
        await drop_database(pg_server, name)


async def test_migration_0009_keeps_the_earliest_duplicate_and_revokes_the_others(
    at_0008: str,
) -> None:
    teacher, project, course = uuid.uuid4(), uuid.uuid4(), uuid.uuid4()
    provider, statement_id = uuid.uuid4(), uuid.uuid4()
    activity = "https://zhixue.example/activities/IT-2-0/"
    rows = [  # (source_ref, course_id, title, completed day)
        ("p:evt-2", None, "班级管理", 5),
        ("p:evt-1", None, "班级 管理", 3),  # the earliest of the provider's own course
        ("p:evt-3", None, "班级管理", 9),
        ("x-1", course, "师德", 4),
        ("x-2", course, "师德", 2),  # the earliest of the catalogue course
        ("p:evt-9", None, "家庭教育", 1),
    ]
    engine = make_engine(at_0008)
    try:
        async with engine.begin() as conn:
            await conn.execute(
                text(
                    "INSERT INTO learning.plans (id, teacher_id, project_id, registration_id,"
                    " project_year, teacher_name, stage, subject, province_id, city_id,"
                    " county_id, school_id, status) VALUES (gen_random_uuid(), :t, :p,"
                    " gen_random_uuid(), 2026, '李老师', 'primary', '语文', '370000', '370100',"
                    " '370102', '370102-S001', 'active')"
                ),
                {"t": teacher, "p": project},
            )
            for ref, course_id, title, day in rows:
                await conn.execute(
                    text(
                        "INSERT INTO learning.completions (id, teacher_id, project_id, source,"
                        " source_ref, course_id, course_title, category, hours, provider_id,"
                        " completed_at) VALUES (gen_random_uuid(), :t, :p, 'provider', :ref,"
                        " :c, :title, 'general_elective', 6, 'zhixue', :at)"
                    ),
                    {
                        "t": teacher,
                        "p": project,
                        "ref": ref,
                        "c": course_id,
                        "title": title,
                        "at": datetime(2026, 11, day, tzinfo=UTC),
                    },
                )
            # An xAPI completion of a provider's own activity: keyed by the activity's code.
            await conn.execute(
                text(
                    "INSERT INTO learning.providers (id, code, name, province_id, created_by)"
                    " VALUES (:p, 'zhixue', '智学教育', '370000', 'test')"
                ),
                {"p": provider},
            )
            await conn.execute(
                text(
                    "INSERT INTO learning.xapi_statements (id, provider_id, statement, verb_id,"
                    " voided, stored) VALUES (:s, :p, CAST(:stmt AS jsonb), 'completed', false,"
                    " now())"
                ),
                {
                    "s": statement_id,
                    "p": provider,
                    "stmt": json.dumps({"object": {"id": activity}}),
                },
            )
            await conn.execute(
                text(
                    "INSERT INTO learning.completions (id, teacher_id, project_id, source,"
                    " source_ref, course_title, category, hours, provider_id, completed_at)"
                    " VALUES (gen_random_uuid(), :t, :p, 'xapi', :s, '信息技术 2.0',"
                    " 'general_elective', 8, :provider, now())"
                ),
                {"t": teacher, "p": project, "s": str(statement_id), "provider": str(provider)},
            )
        cfg = alembic_config(service_dir("learning"), at_0008)
        await asyncio.to_thread(command.upgrade, cfg, "0009")
        async with engine.connect() as conn:
            found = await conn.execute(
                text(
                    "SELECT source_ref, course_key, revoked_at IS NOT NULL, revoke_reason"
                    " FROM learning.completions ORDER BY source_ref"
                )
            )
            state = {r[0]: (r[1], r[2], r[3]) for r in found}
            events = [
                json.loads(r[0])["data"]
                for r in await conn.execute(
                    text(
                        "SELECT payload FROM learning.outbox"
                        " WHERE event_type = 'learning.course_completion_revoked'"
                    )
                )
            ]
            ids = {
                str(r[0]): r[1]
                for r in await conn.execute(text("SELECT id, source_ref FROM learning.completions"))
            }
    finally:
        await engine.dispose()
    live = sorted(ref for ref, (_, revoked, _) in state.items() if not revoked)
    assert live == sorted(["p:evt-1", "p:evt-9", str(statement_id), "x-2"])
    # The keys the service computes now (`course_key_for`), so old and new rows meet.
    assert state["p:evt-2"][0] == state["p:evt-1"][0] == "provider:zhixue:title:班级管理"
    assert state["p:evt-1"][0] == course_key_for(
        source="provider",
        source_ref="p:evt-1",
        course_id=None,
        provider_id="zhixue",
        title="班级 管理",
    )
    assert state[str(statement_id)][0] == course_key_for(
        source="xapi",
        source_ref=str(statement_id),
        course_id=None,
        provider_id=str(provider),
        title="信息技术 2.0",
        code="IT-2-0",
    )
    assert state["x-1"][0] == f"course:{course}"
    assert "0009" in str(state["p:evt-3"][2])
    assert sorted(ids[e["completion_id"]] for e in events) == ["p:evt-2", "p:evt-3", "x-1"]
    assert {e["org"]["school_id"] for e in events} == {"370102-S001"}
