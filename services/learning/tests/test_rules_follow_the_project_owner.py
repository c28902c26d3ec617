"""Rules follow the project's owner (issue #14 follow-up): learning keeps the projects
enrollment opened (owner, rule set) from `enrollment.project_opened` on the real broker, and
only a province admin of the owner's province or a city admin of the owning city sets the
rules; admins of other regions are refused (403) and do not see them (404). A project whose
owner learning never learned keeps the old rule: province admins only."""

from __future__ import annotations

import uuid
from datetime import date
from typing import Any

from sqlalchemy import text

from learning.consumers import on_project_opened
from learning.rules import repository as rules_repo
from services.learning.tests.conftest import LearningWorld
from yanxiu.contracts.enrollment import ProjectOpened
from yanxiu.testing import eventually

SHANDONG = ["370000"]
ANHUI = ["340000"]
HEFEI = ["340000", "340100"]
WUHU = ["340000", "340200"]
HEFEI_COUNTY = ["340000", "340100", "340104"]  # 蜀山区
BODY = {"year": 2021, "rule_set": "shandong-2023"}


def opened(
    owner: list[str] | None, rule_set: str | None = None, project_id: uuid.UUID | None = None
) -> ProjectOpened:
    return ProjectOpened(
        project_id=project_id or uuid.uuid4(),
        year=2021,
        stage="primary",
        name="2021年信息技术应用能力提升工程2.0",
        registration_opens_on=date(2021, 5, 1),
        registration_closes_on=date(2021, 6, 30),
        owner_org_id=owner[-1] if owner else None,
        owner_org_path=owner,
        rule_set=rule_set,
    )


async def deliver(lx: LearningWorld, event: ProjectOpened, times: int = 1) -> None:
    """Sends one envelope of the event `times` times on the broker, as enrollment's relay
    would on a redelivery, and waits until learning has handled it."""
    rt: Any = lx.rt
    await rt.producer_ready.wait()
    env = event.envelope(producer="enrollment", trace_id="test")
    for _ in range(times):
        await rt.producer.send_and_wait(
            rt.settings.topic(event.TOPIC), env.model_dump_json().encode(), key=env.key.encode()
        )

    async def handled() -> bool:
        async with rt.engine.connect() as conn:
            found = await conn.scalar(
                text("SELECT 1 FROM learning.inbox WHERE event_id = :e"), {"e": env.id}
            )
        return found is not None

    await eventually(handled)


async def put(lx: LearningWorld, project_id: uuid.UUID, role: str, path: list[str]) -> Any:
    return await lx.client.put(
        f"/projects/{project_id}/rules", json=BODY, headers=lx.auth(lx.token(role, path))
    )


async def get(lx: LearningWorld, project_id: uuid.UUID, role: str, path: list[str]) -> Any:
    return await lx.client.get(
        f"/projects/{project_id}/rules", headers=lx.auth(lx.token(role, path))
    )


async def test_anhui_province_admin_cannot_set_a_shandong_projects_rules(
    lx: LearningWorld,
) -> None:
    event = opened(SHANDONG)
    await deliver(lx, event)

    r = await put(lx, event.project_id, "province_admin", ANHUI)
    assert r.status_code == 403, r.text
    assert r.json()["code"] == "not_project_owner"
    assert (await put(lx, event.project_id, "city_admin", HEFEI)).status_code == 403
    assert (await put(lx, event.project_id, "province_admin", SHANDONG)).status_code == 200
    # The Anhui admin does not see the Shandong project's rules; a Shandong admin does.
    r = await get(lx, event.project_id, "province_admin", ANHUI)
    assert r.status_code == 404 and r.json()["code"] == "project_not_found", r.text
    jinan_county = ["370000", "370100", "370102"]
    assert (await get(lx, event.project_id, "county_admin", jinan_county)).status_code == 200


async def test_hefei_city_admin_sets_the_hefei_projects_rules(lx: LearningWorld) -> None:
    event = opened(HEFEI)
    await deliver(lx, event)

    r = await put(lx, event.project_id, "city_admin", HEFEI)
    assert r.status_code == 200, r.text
    assert r.json()["rule_set"]["code"] == "shandong-2023"
    assert (await put(lx, event.project_id, "province_admin", ANHUI)).status_code == 200
    for role, path in (
        ("city_admin", WUHU),
        ("province_admin", SHANDONG),
        ("county_admin", HEFEI_COUNTY),
    ):
        assert (await put(lx, event.project_id, role, path)).status_code == 403, (role, path)
    # Hefei's own admins and teachers read them; another city's admin gets not found.
    assert (await get(lx, event.project_id, "county_admin", HEFEI_COUNTY)).status_code == 200
    assert (await get(lx, event.project_id, "teacher", [*HEFEI_COUNTY, "S1"])).status_code == 200
    r = await get(lx, event.project_id, "city_admin", WUHU)
    assert r.status_code == 404 and r.json()["code"] == "project_not_found"


async def test_the_named_rule_set_is_applied_on_project_opened_once(lx: LearningWorld) -> None:
    event = opened(HEFEI, rule_set="hefei-it2-2021")
    await deliver(lx, event, times=2)  # one envelope redelivered
    await lx.run(lambda s: on_project_opened(s, event))  # the same fact re-sent (a resync)

    async def assignments(session: Any) -> list[Any]:
        rows = await session.execute(
            text(
                "SELECT actor_id FROM learning.audit_log "
                "WHERE action = 'rules.assign' AND target_id = :p"
            ),
            {"p": str(event.project_id)},
        )
        return list(rows.scalars())

    assert await lx.run(assignments) == ["enrollment"]
    rules = await lx.run(lambda s: rules_repo.get(s, event.project_id))
    assert rules.ruleset_code == "hefei-it2-2021" and rules.assigned_by == "enrollment"
    project = await lx.run(lambda s: rules_repo.get_project(s, event.project_id))
    assert (project.year, project.stage, project.owner_org_path, project.rule_set) == (
        2021,
        "primary",
        HEFEI,
        "hefei-it2-2021",
    )


async def test_a_project_whose_owner_is_unknown_keeps_the_province_only_rule(
    lx: LearningWorld,
) -> None:
    never_opened = uuid.uuid4()
    old_event = opened(None)  # sent before enrollment named owners
    await deliver(lx, old_event)
    for project in (never_opened, old_event.project_id):
        assert (await put(lx, project, "city_admin", HEFEI)).status_code == 403
        assert (await put(lx, project, "province_admin", ANHUI)).status_code == 200
        assert (await get(lx, project, "city_admin", WUHU)).status_code == 200


async def test_an_event_without_an_owner_never_unsets_a_known_owner(lx: LearningWorld) -> None:
    event = opened(HEFEI)
    await lx.run(lambda s: on_project_opened(s, event))
    await lx.run(lambda s: on_project_opened(s, opened(None, project_id=event.project_id)))

    assert (await put(lx, event.project_id, "province_admin", SHANDONG)).status_code == 403
    assert (await put(lx, event.project_id, "city_admin", HEFEI)).status_code == 200
