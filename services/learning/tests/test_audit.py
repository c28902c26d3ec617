"""审计日志 of learning: provider registration and key changes, rule assignments, schools'
topic choices and school-based hours are recorded with before and after (never a key's
secret); counties list their own subtree only; the table refuses UPDATE and DELETE."""

from __future__ import annotations

import json
import uuid
from typing import Any

import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError

from services.learning.tests.conftest import OTHER_SCHOOL, SCHOOL, LearningWorld
from services.learning.tests.test_providers_support import World, world

__all__ = ["world"]


async def audit(lx: LearningWorld, token: str, **params: Any) -> tuple[int, dict[str, Any]]:
    r = await lx.client.get("/audit", params=params, headers=lx.auth(token))
    return r.status_code, r.json()


async def test_provider_key_changes_are_audited_without_the_secret(world: World) -> None:
    # The world registered its provider and issued a key through the API.
    url = f"/providers/{world.provider_id}/keys/{world.key_id}"
    assert (await world.client.delete(url, headers=world.admin)).status_code == 204
    # Revoking again changes nothing, and records nothing.
    assert (await world.client.delete(url, headers=world.admin)).status_code == 204
    r = await world.client.get(
        "/audit", params={"target_id": world.provider_id}, headers=world.admin
    )
    page = r.json()
    assert [e["action"] for e in page["items"]] == [
        "provider.revoke_key",
        "provider.issue_key",
        "provider.register",
    ]
    revoke, issue, _ = page["items"]
    assert issue["after"]["key_id"] == world.key_id
    assert revoke["before"]["revoked_at"] is None and revoke["after"]["revoked_at"]
    assert world.secret not in json.dumps(page)
    assert all(e["target_org"] == [SCHOOL[0]] for e in page["items"])


async def test_rule_assignment_is_audited_with_the_rule_set_before_and_after(
    lx: LearningWorld,
) -> None:
    project = uuid.uuid4()
    admin = lx.auth(lx.province_token())
    for code in ("shandong-2023", "shandong-2020"):
        r = await lx.client.put(
            f"/projects/{project}/rules", json={"year": 2023, "rule_set": code}, headers=admin
        )
        assert r.status_code == 200, r.text
    _, page = await audit(lx, lx.province_token(), action="rules.assign")
    second, first = page["items"]
    assert first["before"] is None and first["after"]["rule_set"] == "shandong-2023"
    assert second["before"] == {"rule_set": "shandong-2023", "year": 2023}
    assert second["after"]["rule_set"] == "shandong-2020"
    assert second["target_id"] == str(project) and second["actor_role"] == "province_admin"
    # A project's rules belong to the province: a county does not list them.
    assert (await audit(lx, lx.token("county_admin", SCHOOL[:3])))[1]["items"] == []


async def test_a_county_lists_its_schools_entries_and_not_another_countys(
    lx: LearningWorld,
) -> None:
    await lx.seed_rules()
    t = await lx.seed_plan()
    await lx.seed_school(SCHOOL)
    school = lx.auth(lx.school_admin_token())
    r = await lx.client.put(
        f"/schools/{SCHOOL[3]}/topics",
        json={"project_id": str(lx.project_id), "topic_ids": ["ethics"]},
        headers=school,
    )
    assert r.status_code == 200, r.text
    body = {"project_id": str(t.project_id), "record_id": "R-1", "title": "校本研修", "hours": "2"}
    r = await lx.client.post(f"/plans/{t.teacher_id}/school-based-hours", json=body, headers=school)
    assert r.status_code == 200, r.text
    _, mine = await audit(lx, lx.token("county_admin", SCHOOL[:3]))
    assert {e["action"] for e in mine["items"]} == {
        "school.choose_topics",
        "plan.school_based_hours",
    }
    hours = next(e for e in mine["items"] if e["action"] == "plan.school_based_hours")
    assert hours["target_org"] == SCHOOL and hours["after"]["hours"] == "2"
    topics = next(e for e in mine["items"] if e["action"] == "school.choose_topics")
    assert topics["before"]["topic_ids"] == [] and "ethics" in topics["after"]["topic_ids"]
    assert (await audit(lx, lx.token("county_admin", OTHER_SCHOOL[:3])))[1]["items"] == []
    assert (await audit(lx, lx.token("city_admin", OTHER_SCHOOL[:2])))[1]["items"] == []


@pytest.mark.parametrize("role", ["teacher", "school_admin", "expert"])
async def test_only_province_city_and_county_admins_read_the_trail(
    lx: LearningWorld, role: str
) -> None:
    status, body = await audit(lx, lx.token(role, SCHOOL, teacher_id=str(uuid.uuid4())))
    assert status == 403 and body["code"] == "audit_not_allowed"


async def test_audit_log_refuses_update_and_delete(lx: LearningWorld) -> None:
    r = await lx.client.post(
        "/courses",
        json={
            "code": "A-1",
            "title": "师德",
            "kind": "required",
            "scope": "general",
            "topic_id": "ethics",
            "hours": 1,
            "video_seconds": 600,
        },
        headers=lx.auth(lx.province_token()),
    )
    assert r.status_code == 201, r.text
    for statement in (
        "UPDATE learning.audit_log SET action = 'x'",
        "DELETE FROM learning.audit_log",
    ):
        async with lx.rt.session_factory() as session:
            with pytest.raises(DBAPIError, match="append-only"):
                await session.execute(text(statement))
