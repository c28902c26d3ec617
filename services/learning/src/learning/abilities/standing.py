"""The hook attainment calls: a teacher's IT 2.0 standing (role, passed tasks and points) as
the evaluation takes it. Rules without roles or ability points cost no query."""

from __future__ import annotations

import uuid
from collections.abc import Iterable

from learning.abilities import repository as repo
from learning.models import Plan
from learning.rules.ruleset import RuleSet, Standing
from yanxiu.kit.reads import Db


def needs_standing(rules: RuleSet) -> bool:
    return bool(rules.roles) or rules.abilities is not None


async def standing_of(db: Db, *, plan: Plan, rules: RuleSet) -> Standing | None:
    """The plan's standing, or None when the rules do not look at one."""
    if not needs_standing(rules):
        return None
    return (await standings_of(db, plans=[plan], rules=rules))[plan.teacher_id]


async def standings_of(
    db: Db, *, plans: Iterable[Plan], rules: RuleSet
) -> dict[uuid.UUID, Standing]:
    """Standings of many plans of one project, by teacher (two queries); empty when the rules
    do not look at them."""
    by_id = {p.id: p for p in plans}
    if not by_id or not needs_standing(rules):
        return {}
    ids = list(by_id)
    roles = await repo.roles_of(db, ids)
    passed = await repo.passed_of(db, ids)
    found = {}
    for plan_id, plan in by_id.items():
        items = passed.get(plan_id, [])
        found[plan.teacher_id] = Standing(
            role=roles.get(plan_id),
            passed_tasks=frozenset(code for kind, code in items if kind == "task"),
            passed_points=frozenset(code for kind, code in items if kind == "point"),
        )
    return found
