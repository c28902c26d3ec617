"""能力点认证与角色任务: teachers submit certification material, the school admin in scope
assesses it (校本应用考核) and sets each teacher's role; every change that can move a teacher's
standing re-evaluates the teacher (RequirementsMet / RequirementsUnmet on a change)."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

from sqlalchemy.ext.asyncio import AsyncSession

from learning import repository as plans_repo
from learning.abilities import repository as repo
from learning.abilities.catalogue import catalogues
from learning.abilities.errors import (
    AbilitiesNotInProject,
    AbilityPointUnknown,
    CertificationChanged,
    CertificationNotFound,
    CertificationPassed,
    OnlyTeachersSubmit,
    RolesNotInProject,
    RoleUnknown,
    TaskNotForRole,
)
from learning.abilities.models import Certification
from learning.abilities.queries import certification_read, describe
from learning.abilities.schemas import (
    AssessmentIn,
    CertificationRead,
    CertificationSubmit,
    RolePut,
    RoleRead,
)
from learning.attainment.service import reevaluate
from learning.audit import AUDIT
from learning.errors import PlanNotFound, ProjectRulesMissing
from learning.models import Plan
from learning.rules.ruleset import RuleSet
from learning.rules.service import ruleset_for
from learning.service import admin_reads, ensure_plan_counts
from yanxiu.kit.auth import Principal, Role
from yanxiu.kit.scope import own_teacher_id


async def _rules(session: AsyncSession, project_id: uuid.UUID) -> RuleSet:
    found = await ruleset_for(session, project_id)
    if found is None:
        raise ProjectRulesMissing()
    return found[0]


async def _plan_in_school_scope(
    session: AsyncSession, actor: Principal, teacher_id: uuid.UUID, project_id: uuid.UUID
) -> Plan:
    """The plan, for the admin of the school its stored org path names (404 otherwise)."""
    actor.ensure_role(Role.school_admin)
    plan = await plans_repo.plan_of(session, teacher_id=teacher_id, project_id=project_id)
    if plan is None or not admin_reads(actor, plan):
        raise PlanNotFound()
    return plan


async def set_role(
    session: AsyncSession, *, actor: Principal, teacher_id: uuid.UUID, body: RolePut
) -> RoleRead:
    """设置角色: the school admin says which role a teacher has in the project (教师学员 by
    default); the teacher is judged by that role's tasks from now on."""
    plan = await _plan_in_school_scope(session, actor, teacher_id, body.project_id)
    rules = await _rules(session, body.project_id)
    if not rules.roles:
        raise RolesNotInProject()
    role = rules.role(body.role)
    if role is None:
        known = ", ".join(r.code for r in rules.roles)
        raise RoleUnknown(f"该项目的角色为：{known}", f"The project's roles are: {known}")
    current = await repo.role_of(session, plan.id)
    before = current.role if current is not None else rules.default_role
    if current is None or current.role != body.role:
        current = await repo.put_role(
            session, plan_id=plan.id, role=body.role, assigned_by=actor.user_id
        )
        await AUDIT.record(
            session,
            actor=actor,
            action="plan.set_role",
            target_type="plan",
            target_id=str(plan.id),
            target_org=plan.org_path,
            before={"role": before},
            after={"role": body.role, "teacher_id": teacher_id, "project_id": body.project_id},
        )
        await reevaluate(session, plan=plan, reason=f"role {before} → {body.role}")
    return RoleRead(
        teacher_id=teacher_id,
        project_id=body.project_id,
        role=role.code,
        role_name=role.name,
        assigned_by=current.assigned_by,
        assigned_at=current.assigned_at,
    )


async def submit(
    session: AsyncSession, *, actor: Principal, body: CertificationSubmit
) -> CertificationRead:
    """提交认证材料: the teacher's own plan only; an item already passed is closed, one sent
    back (or still waiting) takes a new attempt."""
    teacher_id = own_teacher_id(actor)
    if teacher_id is None:
        raise OnlyTeachersSubmit()
    plan = await plans_repo.plan_of(session, teacher_id=teacher_id, project_id=body.project_id)
    if plan is None:
        raise PlanNotFound()
    ensure_plan_counts(plan)
    rules = await _rules(session, body.project_id)
    await _ensure_item(session, rules, plan, body.item_kind, body.item_code)
    now = datetime.now(UTC)
    materials = [m.model_dump(mode="json", exclude_none=True) for m in body.materials]
    cert, created = await _lock_or_create(session, plan, body, materials, now)
    if cert.status == "passed":
        raise CertificationPassed()
    if not created:  # resubmitted: a new attempt
        cert.attempt += 1
        cert.status = "submitted"
        cert.description = body.description
        cert.materials = materials
        cert.submitted_at = now
    await repo.add_attempt(
        session,
        certification_id=cert.id,
        attempt=cert.attempt,
        description=body.description,
        materials=materials,
        submitted_at=now,
    )
    await AUDIT.record(
        session,
        actor=actor,
        action="certification.submit",
        target_type="certification",
        target_id=str(cert.id),
        target_org=plan.org_path,
        after={
            "item_kind": cert.item_kind,
            "item_code": cert.item_code,
            "attempt": cert.attempt,
            "materials": len(materials),
        },
    )
    return certification_read(cert, plan, rules)


async def _ensure_item(
    session: AsyncSession, rules: RuleSet, plan: Plan, kind: str, code: str
) -> None:
    """A point of the project's catalogue, or a task of the teacher's current role."""
    if kind == "point":
        if rules.abilities is None:
            raise AbilitiesNotInProject()
        catalogue = catalogues().get(rules.abilities.catalogue)
        if catalogue is None or catalogue.point(code) is None:
            raise AbilityPointUnknown(f"没有能力点 {code}", f"No ability point {code}")
        return
    if not rules.roles:
        raise RolesNotInProject()
    current = await repo.role_of(session, plan.id)
    role = rules.role(current.role if current is not None else None)
    if role is None or all(t.code != code for t in role.tasks):
        tasks = ", ".join(t.code for t in role.tasks) if role else ""
        raise TaskNotForRole(
            f"任务 {code} 不属于该角色（可提交：{tasks}）",
            f"Task {code} is not the role's (its tasks: {tasks})",
        )


async def _lock_or_create(
    session: AsyncSession,
    plan: Plan,
    body: CertificationSubmit,
    materials: list[dict[str, object]],
    now: datetime,
) -> tuple[Certification, bool]:
    """The item's row, locked, and whether this submission created it (attempt 1)."""
    cert = await repo.lock_item(session, plan_id=plan.id, kind=body.item_kind, code=body.item_code)
    if cert is not None:
        return cert, False
    created = await repo.insert_item(
        session,
        {
            "id": uuid.uuid4(),
            "plan_id": plan.id,
            "item_kind": body.item_kind,
            "item_code": body.item_code,
            "status": "submitted",
            "attempt": 1,
            "description": body.description,
            "materials": materials,
            "submitted_at": now,
        },
    )
    # Inserted now, or by a concurrent first submission (then this waits for it to end and
    # resubmits on top of it).
    cert = await repo.lock_item(session, plan_id=plan.id, kind=body.item_kind, code=body.item_code)
    assert cert is not None
    return cert, created


async def assess(
    session: AsyncSession, *, actor: Principal, certification_id: uuid.UUID, body: AssessmentIn
) -> CertificationRead:
    """校本应用考核: the admin of the plan's school passes the attempt it read or sends it back
    with comments. Sending back a passed item un-passes it; both re-evaluate the teacher."""
    actor.ensure_role(Role.school_admin)
    found = await repo.lock_with_plan(session, certification_id)
    if found is None or not admin_reads(actor, found[1]):
        raise CertificationNotFound()
    cert, plan = found
    if body.attempt != cert.attempt:
        raise CertificationChanged(
            f"最新提交为第 {cert.attempt} 次", f"The latest attempt is {cert.attempt}"
        )
    rules = await _rules(session, plan.project_id)
    before = cert.status
    after = "passed" if body.outcome == "pass" else "revise"
    if before == after and cert.comment == body.comment:
        return certification_read(cert, plan, rules)  # the same decision again: nothing new
    now = datetime.now(UTC)
    cert.status = after
    cert.assessed_at = now
    cert.assessed_by = actor.user_id
    cert.comment = body.comment
    await repo.add_assessment(
        session,
        certification_id=cert.id,
        attempt=cert.attempt,
        outcome=body.outcome,
        comment=body.comment,
        assessed_by=actor.user_id,
        assessed_at=now,
    )
    await AUDIT.record(
        session,
        actor=actor,
        action="certification.assess",
        target_type="certification",
        target_id=str(cert.id),
        target_org=plan.org_path,
        before={"status": before},
        after={
            "status": after,
            "attempt": cert.attempt,
            "item": f"{cert.item_kind}:{cert.item_code}",
            "comment": body.comment,
        },
    )
    if "passed" in (before, after):
        name, _credits = describe(rules, cert)
        await reevaluate(session, plan=plan, reason=f"{name} {before} → {after}")
    return certification_read(cert, plan, rules)
