"""每个项目指定学习规则: a project opened naming a shipped rule set gets it in learning (the
function the consumer of `enrollment.project_opened` calls), once, never over rules an admin
set, and not at all for a code learning does not ship."""

from __future__ import annotations

import uuid
from datetime import date

from sqlalchemy.ext.asyncio import AsyncSession

from learning.rules import repository as rules_repo
from learning.rules.named import apply_named_rule_set
from services.learning.tests.conftest import LearningWorld
from yanxiu.contracts.enrollment import ProjectOpened


def opened(rule_set: str | None, project_id: uuid.UUID | None = None) -> ProjectOpened:
    return ProjectOpened(
        project_id=project_id or uuid.uuid4(),
        year=2021,
        stage="primary",
        name="2021年合肥市信息技术应用能力提升工程2.0",
        registration_opens_on=date(2021, 5, 1),
        registration_closes_on=date(2021, 6, 30),
        owner_org_id="340100",
        owner_org_path=["340000", "340100"],
        rule_set=rule_set,
    )


async def test_an_opened_project_gets_the_shipped_rule_set_it_names_once(
    lx: LearningWorld,
) -> None:
    event = opened("hefei-it2-2021")

    async def apply(session: AsyncSession) -> bool:
        return await apply_named_rule_set(session, event)

    assert await lx.run(apply) is True
    assert await lx.run(apply) is False  # redelivered: the rules are there already
    r = await lx.client.get(
        f"/projects/{event.project_id}/rules", headers=lx.auth(lx.province_token())
    )
    assert r.status_code == 200, r.text
    assert r.json()["rule_set"]["code"] == "hefei-it2-2021" and r.json()["year"] == 2021
    assert r.json()["assigned_by"] == "enrollment"


async def test_rules_an_admin_set_are_not_replaced_by_the_named_rule_set(
    lx: LearningWorld,
) -> None:
    project = uuid.uuid4()
    await lx.seed_rules(project, "shandong-2023")
    assert (
        await lx.run(lambda s: apply_named_rule_set(s, opened("hefei-it2-2021", project))) is False
    )

    async def code(session: AsyncSession) -> str | None:
        row = await rules_repo.get(session, project)
        return row.ruleset_code if row else None

    assert await lx.run(code) == "shandong-2023"


async def test_a_project_naming_no_rule_set_or_an_unknown_one_gets_none(
    lx: LearningWorld,
) -> None:
    for event in (opened(None), opened("zhaoqing-2099")):
        assert await lx.run(lambda s, e=event: apply_named_rule_set(s, e)) is False
        r = await lx.client.get(
            f"/projects/{event.project_id}/rules", headers=lx.auth(lx.province_token())
        )
        assert r.status_code == 404
