"""Reading a teacher's attainment: evaluated live from the completions, so it always agrees
with what the next change would emit."""

from __future__ import annotations

import uuid
from decimal import Decimal

from learning import service as plans
from learning.abilities.standing import standing_of
from learning.attainment import repository as repo
from learning.attainment.schemas import BucketStatus, PlanProgress, ProgressRead
from learning.rules.ruleset import evaluate
from learning.rules.service import ruleset_for
from yanxiu.kit.auth import Principal
from yanxiu.kit.reads import Reader


async def progress_of(
    reader: Reader,
    *,
    actor: Principal,
    teacher_id: uuid.UUID,
    project_id: uuid.UUID | None = None,
) -> ProgressRead:
    """The teacher themself, or an admin whose subtree holds the plan's school."""
    items = []
    for plan in await plans.plans_for(reader, actor=actor, teacher_id=teacher_id):
        if project_id is not None and plan.project_id != project_id:
            continue
        credits = await repo.live_credits(reader, teacher_id=teacher_id, project_id=plan.project_id)
        found = await ruleset_for(reader, plan.project_id)
        if found is None:
            recorded = sum((c.hours for c in credits), Decimal(0))
            items.append(
                PlanProgress(
                    project_id=plan.project_id,
                    project_year=plan.project_year,
                    rule_set=None,
                    met=False,
                    total_hours=Decimal(0),
                    total_min_hours=None,
                    buckets=[],
                    missing=["该项目尚未设置学习规则 no rules yet"],
                    uncounted_hours=recorded,
                )
            )
            continue
        rules = found[0]
        ev = evaluate(rules, credits, await standing_of(reader, plan=plan, rules=rules))
        shown = rules.for_role(rules.role(ev.role))  # IT 2.0: the teacher's role's buckets
        items.append(
            PlanProgress(
                project_id=plan.project_id,
                project_year=plan.project_year,
                rule_set=rules.code,
                met=ev.met,
                total_hours=ev.total,
                total_min_hours=shown.total_min_hours,
                buckets=[
                    BucketStatus(
                        code=b.code,
                        name=b.name,
                        recorded_hours=ev.recorded[b.code],
                        counted_hours=ev.counted[b.code],
                        min_hours=b.min_hours,
                        max_hours=b.max_hours,
                        met=ev.counted[b.code] >= b.min_hours,
                    )
                    for b in shown.buckets
                ],
                missing=ev.missing,
                uncounted_hours=ev.uncounted_hours,
            )
        )
    return ProgressRead(teacher_id=teacher_id, items=items)
