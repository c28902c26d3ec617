"""信息技术应用能力提升工程2.0 (Hefei IT 2.0, issue #14 point 5): three roles with their own
60-hour tasks, the 30 ability points as data, certification material submitted by teachers and
assessed by their school (校本应用考核), and one RequirementsMet when a teacher has their role's
60 hours and tasks and at least 20 credits of passed ability points."""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import httpx
import pytest
from pydantic import ValidationError
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from learning.abilities.catalogue import catalogues
from learning.abilities.schemas import Material
from learning.attainment.service import record_completion, reevaluate_project
from learning.rules.catalogue import shipped
from learning.rules.ruleset import Credited, RuleSet, Standing, evaluate
from services.learning.tests.conftest import OTHER_SCHOOL, SCHOOL, LearningWorld, SeededTeacher

HEFEI = "hefei-it2-2021"
SHA = "ab" * 32
TEACHER_TASKS = ("personal_plan", "lesson_case")
FOUR_POINTS = ("A1", "A3", "B2", "C3")  # 4 × 5 credits = the 20 Hefei requires


def material(**over: Any) -> dict[str, Any]:
    return {
        "kind": "file",
        "url": "https://files.yanxiu.example/it2/a3-design.pdf",
        "name": "A3 教学设计.pdf",
        "size": 183_204,
        "sha256": SHA,
        "media_type": "application/pdf",
        **over,
    }


def submission(t: SeededTeacher, code: str, kind: str = "point", **over: Any) -> dict[str, Any]:
    return {
        "project_id": str(t.project_id),
        "item_kind": kind,
        "item_code": code,
        "description": f"{code} 的认证材料：教学设计、课堂实录片段和反思",
        "materials": [material(), {"kind": "link", "url": "https://v.example.cn/lesson/42"}],
        **over,
    }


async def hefei_teacher(lx: LearningWorld, **kw: Any) -> SeededTeacher:
    t = await lx.seed_plan(**kw)
    await lx.seed_rules(t.project_id, HEFEI)
    return t


async def submit(lx: LearningWorld, t: SeededTeacher, code: str, **kw: Any) -> httpx.Response:
    return await lx.client.post(
        "/abilities/certifications", json=submission(t, code, **kw), headers=lx.auth(t.token)
    )


async def assess(
    lx: LearningWorld, cert: dict[str, Any], outcome: str, token: str | None = None, **kw: Any
) -> httpx.Response:
    body = {"attempt": cert["attempt"], "outcome": outcome, **kw}
    if outcome == "revise":
        body.setdefault("comment", "请补充课堂实录片段 please add the class recording")
    return await lx.client.post(
        f"/abilities/certifications/{cert['id']}/assessment",
        json=body,
        headers=lx.auth(token or lx.school_admin_token()),
    )


async def passed(lx: LearningWorld, t: SeededTeacher, code: str, kind: str = "point") -> None:
    r = await submit(lx, t, code, kind=kind)
    assert r.status_code == 201, r.text
    r = await assess(lx, r.json(), "pass")
    assert r.status_code == 200 and r.json()["status"] == "passed", r.text


async def outbox_types(lx: LearningWorld) -> list[str]:
    async with lx.rt.engine.connect() as conn:
        rows = await conn.execute(text("SELECT event_type FROM learning.outbox ORDER BY id"))
        return [r[0] for r in rows]


async def sixty_hours(lx: LearningWorld, t: SeededTeacher) -> None:
    """30 h online (a provider's completion) + 30 h school-based (recorded by the school)."""

    async def online(session: AsyncSession) -> Any:
        return await record_completion(
            session,
            teacher_id=t.teacher_id,
            project_id=t.project_id,
            source="provider",
            source_ref=f"online-{t.teacher_id}",
            completed_at=datetime.now(UTC),
            course_title="网络研修 信息化教学",
            category="general_elective",
            hours=Decimal(30),
        )

    assert await lx.run(online) is not None
    r = await lx.client.post(
        f"/plans/{t.teacher_id}/school-based-hours",
        json={
            "project_id": str(t.project_id),
            "record_id": f"HF-{t.teacher_id}",
            "title": "校本研修",
            "hours": "30",
        },
        headers=lx.auth(lx.school_admin_token(t.org_path)),
    )
    assert r.status_code == 200, r.text


# --- the data -------------------------------------------------------------------------------


def test_catalogue_has_the_30_ability_points_a1_a13_b1_b10_c1_c7() -> None:
    it2 = catalogues()["it2-2019"]
    codes = [p.code for p in it2.points]
    expected = (
        [f"A{i}" for i in range(1, 14)]
        + [f"B{i}" for i in range(1, 11)]
        + [f"C{i}" for i in range(1, 8)]
    )
    assert codes == expected
    by_env = {e.code: sum(p.environment == e.code for p in it2.points) for e in it2.environments}
    assert by_env == {"multimedia": 13, "blended": 10, "smart": 7}
    assert [d.name for d in it2.dimensions] == ["学情分析", "教学设计", "学法指导", "学业评价"]
    assert {p.dimension for p in it2.points} == {d.code for d in it2.dimensions}
    assert it2.point("A3") is not None and it2.point("A3").name == "演示文稿设计与制作"  # type: ignore[union-attr]
    assert "source" in it2.model_dump() and it2.source["title"]


def test_each_role_has_a_60_hour_task_of_30_online_and_30_school_based_hours() -> None:
    rules = shipped()[HEFEI]
    assert [r.code for r in rules.roles] == ["teacher", "workshop_leader", "school_admin"]
    assert [r.name for r in rules.roles] == ["教师学员", "学科教研组工作坊坊主", "学校管理员"]
    for role in rules.roles:
        hours = rules.for_role(role)
        assert {b.code: b.min_hours for b in hours.buckets} == {
            "online": 30,
            "school_based": 30,
        }
        assert hours.total_min_hours == 60
    tasks = {r.code: {t.code for t in r.tasks} for r in rules.roles}
    assert "group_plan" in tasks["workshop_leader"]  # 教研组校本研修计划
    assert "whole_school_plan" in tasks["school_admin"]  # 整校推进方案
    assert rules.abilities is not None and rules.abilities.min_credits == 20


def test_shandong_rule_sets_have_no_roles_and_evaluate_without_a_standing() -> None:
    for code in ("shandong-2020", "shandong-2023"):
        rules = shipped()[code]
        assert rules.roles == [] and rules.abilities is None
        assert evaluate(rules, []).role is None and evaluate(rules, []).ability_credits is None


def test_hefei_is_met_only_with_hours_tasks_and_20_ability_credits() -> None:
    rules = shipped()[HEFEI]
    hours = [Credited("general_elective", Decimal(30)), Credited("school_based", Decimal(30))]
    tasks = frozenset(TEACHER_TASKS)
    assert not evaluate(rules, hours, Standing(passed_tasks=tasks)).met
    three = frozenset({"A1", "A2", "A3"})
    short = evaluate(rules, hours, Standing(passed_tasks=tasks, passed_points=three))
    assert not short.met and short.ability_credits == 15
    full = Standing(passed_tasks=tasks, passed_points=frozenset(FOUR_POINTS))
    assert evaluate(rules, hours, full).met
    assert not evaluate(rules, hours[:1], full).met  # 30 h are not 60
    leader = Standing(role="workshop_leader", passed_tasks=tasks, passed_points=full.passed_points)
    assert not evaluate(rules, hours, leader).met  # the leader also owes the group's plan


def test_a_rule_set_naming_an_unknown_catalogue_or_role_is_refused() -> None:
    doc = shipped()[HEFEI].model_dump(mode="json")
    with pytest.raises(ValidationError):
        RuleSet.model_validate({**doc, "abilities": {**doc["abilities"], "catalogue": "nope"}})
    with pytest.raises(ValidationError):
        RuleSet.model_validate({**doc, "default_role": "expert"})
    bad_task = json.loads(json.dumps(doc))
    bad_task["roles"][0]["tasks"][0]["bucket"] = "nowhere"
    with pytest.raises(ValidationError):
        RuleSet.model_validate(bad_task)


@pytest.mark.parametrize(
    "bad",
    [
        {"url": "javascript:alert(1)"},
        {"url": "ftp://files.example/a.pdf"},
        {"url": "https://user:secret@files.example/a.pdf"},
        {"url": "https://files.example/a b.pdf"},
        {"url": "http://files.example/a.pdf"},  # a file is an https storage URL
        {"sha256": None},
        {"sha256": "xyz"},
        {"size": 0},
        {"size": 5 << 30},
        {"name": None},
        {"media_type": "pdf"},
    ],
)
def test_material_urls_and_file_sizes_are_validated(bad: dict[str, Any]) -> None:
    with pytest.raises(ValidationError):
        Material.model_validate(material(**bad))


# --- the flow -------------------------------------------------------------------------------


async def test_catalogue_answers_with_each_points_credits_in_the_project(
    lx: LearningWorld,
) -> None:
    t = await hefei_teacher(lx)
    r = await lx.client.get(
        "/abilities/catalogue", params={"project_id": str(t.project_id)}, headers=lx.auth(t.token)
    )
    assert r.status_code == 200, r.text
    body = r.json()
    assert len(body["points"]) == 30 and body["min_credits"] == "20"
    a3 = next(p for p in body["points"] if p["code"] == "A3")
    assert a3["credits"] == "5" and a3["environment_name"] == "多媒体教学环境"


async def test_submit_revise_resubmit_pass(lx: LearningWorld) -> None:
    t = await hefei_teacher(lx)
    r = await submit(lx, t, "A3")
    assert r.status_code == 201, r.text
    first = r.json()
    assert (first["status"], first["attempt"], first["credits"]) == ("submitted", 1, "5")
    assert first["item_name"] == "A3 演示文稿设计与制作"

    waiting = await lx.client.get(
        "/abilities/certifications",
        params={"project_id": str(t.project_id), "status": "submitted"},
        headers=lx.auth(lx.school_admin_token()),
    )
    assert [c["id"] for c in waiting.json()["items"]] == [first["id"]]

    r = await assess(lx, first, "revise", comment="缺少课堂实录片段")
    assert r.status_code == 200 and r.json()["status"] == "revise", r.text
    mine = await lx.client.get(f"/abilities/certifications/{first['id']}", headers=lx.auth(t.token))
    assert mine.json()["status"] == "revise" and mine.json()["comment"] == "缺少课堂实录片段"

    r = await submit(lx, t, "A3", description="补充了课堂实录片段")
    second = r.json()
    assert r.status_code == 201 and (second["id"], second["attempt"]) == (first["id"], 2)
    assert second["status"] == "submitted"
    stale = await assess(lx, first, "pass")  # judged attempt 1, but attempt 2 is in
    assert stale.status_code == 409 and stale.json()["code"] == "certification_changed"
    r = await assess(lx, second, "pass")
    assert r.status_code == 200 and r.json()["status"] == "passed", r.text

    again = await submit(lx, t, "A3")
    assert again.status_code == 409 and again.json()["code"] == "certification_passed"
    detail = (
        await lx.client.get(f"/abilities/certifications/{first['id']}", headers=lx.auth(t.token))
    ).json()
    assert [a["attempt"] for a in detail["attempts"]] == [1, 2]
    assert [(a["attempt"], a["outcome"]) for a in detail["assessments"]] == [
        (1, "revise"),
        (2, "pass"),
    ]
    assert detail["attempts"][1]["description"] == "补充了课堂实录片段"
    audit = await lx.client.get(
        "/audit",
        params={"target_id": first["id"]},
        headers=lx.auth(lx.token("county_admin", SCHOOL[:3])),
    )
    actions = [e["action"] for e in audit.json()["items"]]
    assert actions.count("certification.assess") == 2
    assert actions.count("certification.submit") == 2


async def test_20_credits_and_60_hours_give_exactly_one_requirements_met(
    lx: LearningWorld,
) -> None:
    t = await hefei_teacher(lx)
    await sixty_hours(lx, t)
    for task in TEACHER_TASKS:
        await passed(lx, t, task, kind="task")
    for point in FOUR_POINTS[:3]:
        await passed(lx, t, point)
    assert "learning.requirements_met" not in await outbox_types(lx)  # 15 credits of 20

    await passed(lx, t, FOUR_POINTS[3])
    assert (await outbox_types(lx)).count("learning.requirements_met") == 1
    await passed(lx, t, "A5")  # more credits change nothing about the state
    types = await outbox_types(lx)
    assert types.count("learning.requirements_met") == 1
    assert "learning.requirements_unmet" not in types

    async with lx.rt.engine.connect() as conn:
        payload = (
            await conn.execute(
                text(
                    "SELECT payload FROM learning.outbox "
                    "WHERE event_type = 'learning.requirements_met'"
                )
            )
        ).scalar_one()
    data = json.loads(payload)["data"]
    assert data["rule_set"] == HEFEI and Decimal(data["total_hours"]) == 60
    assert data["hours_by_category"] == {"online": "30.0", "school_based": "30.0"}

    standing = await lx.client.get(
        f"/abilities/plans/{t.teacher_id}",
        params={"project_id": str(t.project_id)},
        headers=lx.auth(t.token),
    )
    body = standing.json()
    assert body["role"] == "teacher" and body["ability_credits"] == "25"
    assert {x["code"]: x["status"] for x in body["tasks"]} == dict.fromkeys(TEACHER_TASKS, "passed")
    progress = await lx.client.get(f"/plans/{t.teacher_id}/progress", headers=lx.auth(t.token))
    assert progress.json()["items"][0]["met"] is True


async def test_unpassing_a_point_below_20_credits_emits_requirements_unmet(
    lx: LearningWorld,
) -> None:
    t = await hefei_teacher(lx)
    await sixty_hours(lx, t)
    for task in TEACHER_TASKS:
        await passed(lx, t, task, kind="task")
    for point in FOUR_POINTS:
        await passed(lx, t, point)
    assert (await outbox_types(lx)).count("learning.requirements_met") == 1

    listed = await lx.client.get(
        "/abilities/certifications",
        params={"project_id": str(t.project_id), "item_kind": "point"},
        headers=lx.auth(lx.school_admin_token()),
    )
    a1 = next(c for c in listed.json()["items"] if c["item_code"] == "A1")
    r = await assess(lx, a1, "revise", comment="复核：实录与教学设计不符")
    assert r.status_code == 200 and r.json()["status"] == "revise", r.text
    types = await outbox_types(lx)
    assert types.count("learning.requirements_unmet") == 1
    assert types.count("learning.requirements_met") == 1
    progress = await lx.client.get(f"/plans/{t.teacher_id}/progress", headers=lx.auth(t.token))
    assert any("能力点" in m for m in progress.json()["items"][0]["missing"])

    # Resubmitted and passed again: met again, a second RequirementsMet.
    r = await submit(lx, t, "A1", description="重新录制的课堂实录")
    assert (await assess(lx, r.json(), "pass")).status_code == 200
    assert (await outbox_types(lx)).count("learning.requirements_met") == 2


async def test_rule_changes_keep_ability_points_in_the_evaluation(lx: LearningWorld) -> None:
    t = await hefei_teacher(lx)
    await sixty_hours(lx, t)
    for task in TEACHER_TASKS:
        await passed(lx, t, task, kind="task")
    for point in FOUR_POINTS:
        await passed(lx, t, point)

    async def rerun(session: AsyncSession) -> int:
        return await reevaluate_project(session, project_id=t.project_id)

    assert await lx.run(rerun) == 1
    types = await outbox_types(lx)
    assert types.count("learning.requirements_met") == 1
    assert "learning.requirements_unmet" not in types


async def test_other_schools_admin_gets_404(lx: LearningWorld) -> None:
    t = await hefei_teacher(lx)
    cert = (await submit(lx, t, "A1")).json()
    other = lx.school_admin_token(OTHER_SCHOOL)
    r = await assess(lx, cert, "pass", token=other)
    assert r.status_code == 404 and r.json()["code"] == "certification_not_found"
    r = await lx.client.get(f"/abilities/certifications/{cert['id']}", headers=lx.auth(other))
    assert r.status_code == 404
    r = await lx.client.put(
        f"/abilities/plans/{t.teacher_id}/role",
        json={"project_id": str(t.project_id), "role": "workshop_leader"},
        headers=lx.auth(other),
    )
    assert r.status_code == 404
    listed = await lx.client.get(
        "/abilities/certifications",
        params={"project_id": str(t.project_id)},
        headers=lx.auth(other),
    )
    assert listed.status_code == 200 and listed.json()["items"] == []
    colleague = lx.teacher_token(uuid.uuid4())
    r = await lx.client.get(f"/abilities/certifications/{cert['id']}", headers=lx.auth(colleague))
    assert r.status_code == 404


async def test_teacher_cannot_assess(lx: LearningWorld) -> None:
    t = await hefei_teacher(lx)
    cert = (await submit(lx, t, "A1")).json()
    r = await assess(lx, cert, "pass", token=t.token)
    assert r.status_code == 403 and r.json()["code"] == "forbidden"
    assert r.headers["content-type"].startswith("application/problem+json")
    r = await assess(lx, cert, "pass", token=lx.token("county_admin", SCHOOL[:3]))
    assert r.status_code == 403  # the school assesses (校本应用考核), not the county
    mine = await lx.client.get(f"/abilities/certifications/{cert['id']}", headers=lx.auth(t.token))
    assert mine.json()["status"] == "submitted"


async def test_school_admin_sets_the_role_audited_and_the_role_decides_the_tasks(
    lx: LearningWorld,
) -> None:
    t = await hefei_teacher(lx)
    refused = await submit(lx, t, "group_plan", kind="task")
    assert refused.status_code == 422 and refused.json()["code"] == "task_not_for_role"
    url = f"/abilities/plans/{t.teacher_id}/role"
    body = {"project_id": str(t.project_id), "role": "workshop_leader"}
    assert (await lx.client.put(url, json=body, headers=lx.auth(t.token))).status_code == 403
    r = await lx.client.put(url, json=body, headers=lx.auth(lx.school_admin_token()))
    assert r.status_code == 200 and r.json()["role_name"] == "学科教研组工作坊坊主", r.text

    assert (await submit(lx, t, "group_plan", kind="task")).status_code == 201
    standing = await lx.client.get(
        f"/abilities/plans/{t.teacher_id}",
        params={"project_id": str(t.project_id)},
        headers=lx.auth(lx.token("county_admin", SCHOOL[:3])),
    )
    tasks = {x["code"]: x["status"] for x in standing.json()["tasks"]}
    assert tasks["group_plan"] == "submitted" and tasks["personal_plan"] == "not_submitted"
    audit = await lx.client.get(
        "/audit",
        params={"action": "plan.set_role"},
        headers=lx.auth(lx.token("county_admin", SCHOOL[:3])),
    )
    (entry,) = audit.json()["items"]
    assert entry["before"] == {"role": "teacher"} and entry["after"]["role"] == "workshop_leader"


async def test_county_and_city_read_their_subtree_only(lx: LearningWorld) -> None:
    t = await hefei_teacher(lx)
    there = await hefei_teacher(lx, org_path=OTHER_SCHOOL, project_id=t.project_id)
    mine = (await submit(lx, t, "A1")).json()
    (await submit(lx, there, "A1")).json()
    params = {"project_id": str(t.project_id)}

    async def ids(token: str, **extra: str) -> list[str]:
        r = await lx.client.get(
            "/abilities/certifications", params={**params, **extra}, headers=lx.auth(token)
        )
        assert r.status_code == 200, r.text
        return [c["id"] for c in r.json()["items"]]

    assert await ids(lx.token("county_admin", SCHOOL[:3])) == [mine["id"]]
    assert await ids(lx.token("city_admin", SCHOOL[:2])) == [mine["id"]]
    assert len(await ids(lx.province_token())) == 2
    assert await ids(t.token) == [mine["id"]]  # a teacher lists their own
    county = lx.token("county_admin", SCHOOL[:3])
    r = await lx.client.get(f"/abilities/certifications/{mine['id']}", headers=lx.auth(county))
    assert r.status_code == 200
    r = await lx.client.get(
        "/abilities/certifications", params=params, headers=lx.auth(lx.token("expert", SCHOOL))
    )
    assert r.status_code == 403


async def test_lists_are_cursor_paginated_oldest_first(lx: LearningWorld) -> None:
    t = await hefei_teacher(lx)
    made = [(await submit(lx, t, code)).json()["id"] for code in ("A1", "A2", "A3")]
    seen: list[str] = []
    cursor: str | None = None
    for _ in range(4):
        params = {"project_id": str(t.project_id), "limit": "2"}
        if cursor:
            params["cursor"] = cursor
        page = (
            await lx.client.get(
                "/abilities/certifications", params=params, headers=lx.auth(t.token)
            )
        ).json()
        seen += [c["id"] for c in page["items"]]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert seen == made
    bad = await lx.client.get(
        "/abilities/certifications",
        params={"project_id": str(t.project_id), "cursor": "bm90LWEtY3Vyc29y"},
        headers=lx.auth(t.token),
    )
    assert bad.status_code == 422 and bad.json()["code"] == "invalid_cursor"


async def test_bad_material_and_unknown_items_are_problem_json_with_stable_codes(
    lx: LearningWorld,
) -> None:
    t = await hefei_teacher(lx)
    r = await submit(lx, t, "A1", materials=[material(url="javascript:alert(1)")])
    assert r.status_code == 422 and r.json()["code"] == "validation_failed"
    r = await submit(lx, t, "D9")
    assert r.status_code == 422 and r.json()["code"] == "ability_point_unknown"
    assert "没有能力点" in r.json()["message_zh"] and "No ability point" in r.json()["message_en"]
    r = await submit(lx, t, "A1", materials=[])
    assert r.status_code == 422
    shandong = await lx.seed_plan(project_id=uuid.uuid4())
    await lx.seed_rules(shandong.project_id, "shandong-2023")
    r = await submit(lx, shandong, "A1")
    assert r.status_code == 422 and r.json()["code"] == "abilities_not_in_project"
    r = await lx.client.post(
        "/abilities/certifications",
        json=submission(t, "A1"),
        headers=lx.auth(lx.school_admin_token()),
    )
    assert r.status_code == 403 and r.json()["code"] == "only_teachers_submit"
    r = await assess(lx, {"id": str(uuid.uuid4()), "attempt": 1}, "revise", comment=" ")
    assert r.status_code == 422  # a revision says why


async def test_a_retried_submission_with_its_idempotency_key_makes_one_attempt(
    lx: LearningWorld,
) -> None:
    t = await hefei_teacher(lx)
    headers = {**lx.auth(t.token), "Idempotency-Key": "a3-first"}
    body = submission(t, "A3")
    first = await lx.client.post("/abilities/certifications", json=body, headers=headers)
    again = await lx.client.post("/abilities/certifications", json=body, headers=headers)
    assert first.status_code == again.status_code == 201
    assert again.headers.get("Idempotent-Replayed") == "true"
    assert again.json() == first.json() and again.json()["attempt"] == 1
    detail = await lx.client.get(
        f"/abilities/certifications/{first.json()['id']}", headers=lx.auth(t.token)
    )
    assert len(detail.json()["attempts"]) == 1
