"""每个项目指定学习规则: the rule set a project names when enrollment opens it
(`ProjectOpened.rule_set`, e.g. "hefei-it2-2021") is assigned to it here, when learning ships
that rule set and the project has no rules yet: a city-run programme (Zhaoqing's, Hefei's) gets
its rules without a province admin, and rules an admin already set are never replaced. Called
by the consumer of enrollment's events; idempotent (a redelivered event finds the rules)."""

from __future__ import annotations

import logging

from sqlalchemy.ext.asyncio import AsyncSession

from learning.audit import AUDIT
from learning.rules import repository as repo
from learning.rules.catalogue import shipped
from yanxiu.contracts.enrollment import ProjectOpened

log = logging.getLogger(__name__)
ASSIGNED_BY = "enrollment"  # who `project_rules.assigned_by` says chose them: the project's owner


async def apply_named_rule_set(session: AsyncSession, event: ProjectOpened) -> bool:
    """Assigns the shipped rule set the opened project names; False when it names none, names
    one learning does not ship, or the project has rules already."""
    if event.rule_set is None:
        return False
    rules = shipped().get(event.rule_set)
    if rules is None:
        log.info(
            "project names a rule set learning does not ship; its rules are set by hand",
            extra={"project_id": str(event.project_id), "rule_set": event.rule_set},
        )
        return False
    if await repo.get(session, event.project_id) is not None:
        return False
    await repo.put(
        session,
        project_id=event.project_id,
        year=event.year,
        code=rules.code,
        ruleset=rules.model_dump(mode="json"),
        assigned_by=ASSIGNED_BY,
    )
    await AUDIT.record(
        session,
        actor=None,
        actor_id=ASSIGNED_BY,
        action="rules.assign",
        target_type="project",
        target_id=str(event.project_id),
        target_org=event.owner_org_path,
        after={"rule_set": rules.code, "year": event.year, "named_by": event.TYPE},
    )
    return True
