"""Reading IT 2.0 certification: the catalogue, a teacher's standing, certifications (the
teacher their own; an admin those whose plan's stored school lies in its subtree)."""

from __future__ import annotations

import uuid
from datetime import datetime
from decimal import Decimal
from typing import Any

from learning import repository as plans_repo
from learning.abilities import repository as repo
from learning.abilities.catalogue import Catalogue, catalogues
from learning.abilities.errors import CertificationNotFound
from learning.abilities.models import Certification
from learning.abilities.schemas import (
    AssessmentRead,
    AttemptRead,
    CatalogueRead,
    CertificationDetail,
    CertificationRead,
    Material,
    PointRead,
    StandingRead,
    TaskRead,
)
from learning.errors import PlanNotFound, ProjectRulesMissing
from learning.models import Plan
from learning.rules.ruleset import RuleSet
from learning.rules.service import ruleset_for
from learning.service import DEPARTED, admin_reads
from yanxiu.kit.auth import ADMIN_LEVEL, Principal
from yanxiu.kit.bounds import in_range
from yanxiu.kit.errors import Forbidden, NotFound
from yanxiu.kit.pagination import InvalidCursor, Page, decode_cursor, encode_cursor
from yanxiu.kit.reads import Reader
from yanxiu.kit.scope import is_self, own_teacher_id

DEFAULT_CATALOGUE = "it2-2019"


class CatalogueUnknown(NotFound):
    code = "ability_catalogue_unknown"
    title_zh = "没有这个能力点目录"
    title_en = "No such ability-point catalogue"


def describe(rules: RuleSet, cert: Certification) -> tuple[str, Decimal | None]:
    """The item's name and, for a point, its credits under the rules."""
    if cert.item_kind == "point":
        found = catalogues().get(rules.abilities.catalogue) if rules.abilities else None
        point = found.point(cert.item_code) if found else None
        credits = rules.abilities.worth(cert.item_code) if rules.abilities else None
        return (f"{cert.item_code} {point.name}" if point else cert.item_code), credits
    for role in rules.roles:
        for task in role.tasks:
            if task.code == cert.item_code:
                return task.name, None
    return cert.item_code, None


def certification_read(cert: Certification, plan: Plan, rules: RuleSet) -> CertificationRead:
    return CertificationRead(**_fields(cert, plan, rules))


def _fields(cert: Certification, plan: Plan, rules: RuleSet) -> dict[str, Any]:
    name, credits = describe(rules, cert)
    return {
        "id": cert.id,
        "teacher_id": plan.teacher_id,
        "project_id": plan.project_id,
        "school_id": plan.school_id,
        "item_kind": cert.item_kind,
        "item_code": cert.item_code,
        "item_name": name,
        "credits": credits,
        "status": cert.status,
        "attempt": cert.attempt,
        "description": cert.description,
        "materials": [Material.model_validate(m) for m in cert.materials],
        "submitted_at": cert.submitted_at,
        "assessed_at": cert.assessed_at,
        "comment": cert.comment,
    }


async def _rules(reader: Reader, project_id: uuid.UUID) -> RuleSet:
    found = await ruleset_for(reader, project_id)
    if found is None:
        raise ProjectRulesMissing()
    return found[0]


async def catalogue_read(reader: Reader, *, project_id: uuid.UUID | None = None) -> CatalogueRead:
    """The catalogue; with a project, the one its rules name and each point's credits there."""
    rules = await _rules(reader, project_id) if project_id is not None else None
    code = rules.abilities.catalogue if rules and rules.abilities else DEFAULT_CATALOGUE
    found = catalogues().get(code)
    if found is None:  # pragma: no cover - rule sets are validated against the catalogues
        raise CatalogueUnknown()
    return _catalogue(found, rules)


def _catalogue(found: Catalogue, rules: RuleSet | None) -> CatalogueRead:
    envs = {e.code: e.name for e in found.environments}
    dims = {d.code: d.name for d in found.dimensions}
    abilities = rules.abilities if rules is not None else None
    return CatalogueRead(
        code=found.code,
        name=found.name,
        source=found.source,
        min_credits=abilities.min_credits if abilities else None,
        points=[
            PointRead(
                code=p.code,
                name=p.name,
                environment=p.environment,
                environment_name=envs[p.environment],
                dimension=p.dimension,
                dimension_name=dims[p.dimension],
                checked=p.checked,
                credits=abilities.worth(p.code) if abilities else None,
            )
            for p in found.points
        ],
    )


async def standing(
    reader: Reader, *, actor: Principal, teacher_id: uuid.UUID, project_id: uuid.UUID
) -> StandingRead:
    """The teacher themself, or an admin whose subtree holds the plan's school."""
    plan = await plans_repo.plan_of(reader, teacher_id=teacher_id, project_id=project_id)
    if plan is None or not (is_self(actor, teacher_id) or admin_reads(actor, plan)):
        raise PlanNotFound()
    rules = await _rules(reader, project_id)
    current = await repo.role_of(reader, plan.id)
    role = rules.role(current.role if current is not None else None)
    items = {(c.item_kind, c.item_code): c for c in await repo.items_of(reader, plan.id)}
    passed = sorted(
        code for (kind, code), c in items.items() if kind == "point" and c.status == "passed"
    )
    credits = (
        sum((rules.abilities.worth(p) for p in passed), Decimal(0)) if rules.abilities else None
    )
    return StandingRead(
        teacher_id=teacher_id,
        project_id=project_id,
        role=role.code if role else None,
        role_name=role.name if role else None,
        tasks=[
            TaskRead(
                code=t.code,
                name=t.name,
                bucket=t.bucket,
                evidence=t.evidence,
                status=items[("task", t.code)].status
                if ("task", t.code) in items
                else "not_submitted",
            )
            for t in (role.tasks if role else [])
        ],
        points_passed=passed,
        ability_credits=credits,
        min_credits=rules.abilities.min_credits if rules.abilities else None,
    )


async def get_certification(
    reader: Reader, *, actor: Principal, certification_id: uuid.UUID
) -> CertificationDetail:
    found = await repo.with_plan(reader, certification_id)
    if found is None:
        raise CertificationNotFound()
    cert, plan = found
    if not (is_self(actor, plan.teacher_id) or admin_reads(actor, plan)):
        raise CertificationNotFound()
    rules = await _rules(reader, plan.project_id)
    attempts, assessments = await repo.history(reader, cert.id)
    return CertificationDetail(
        **_fields(cert, plan, rules),
        attempts=[
            AttemptRead(
                attempt=a.attempt,
                description=a.description,
                materials=[Material.model_validate(m) for m in a.materials],
                submitted_at=a.submitted_at,
            )
            for a in attempts
        ],
        assessments=[
            AssessmentRead(
                attempt=a.attempt,
                outcome=a.outcome,
                comment=a.comment,
                assessed_by=a.assessed_by,
                assessed_at=a.assessed_at,
            )
            for a in assessments
        ],
    )


class NotAllowedToList(Forbidden):
    code = "certifications_not_listed"
    title_zh = "仅参训教师本人和各级管理员可以查看认证材料"
    title_en = "Only the teacher and administrators read certifications"


async def list_certifications(
    reader: Reader,
    *,
    actor: Principal,
    project_id: uuid.UUID,
    status: str | None = None,
    item_kind: str | None = None,
    school_id: str | None = None,
    teacher_id: uuid.UUID | None = None,
    cursor: str | None = None,
    limit: int = 50,
) -> Page[CertificationRead]:
    """A teacher: their own. An admin: those of plans whose stored org path lies in its
    subtree (a school admin: its school's queue with `status=submitted`), narrowed by
    `school_id` and `teacher_id`. A departed teacher's are read from above the school only."""
    own = own_teacher_id(actor)
    if own is not None:
        stmt = repo.scoped(project_id=project_id, teacher_id=own)
    elif actor.role in ADMIN_LEVEL and actor.org_path:
        stmt = repo.scoped(project_id=project_id, org_path=actor.org_path, teacher_id=teacher_id)
        if school_id is not None:
            stmt = stmt.where(repo.ORG_COLUMNS[3] == school_id)
        if len(actor.org_path) >= len(repo.ORG_COLUMNS):  # the school level
            stmt = stmt.where(Plan.status != DEPARTED)
    else:
        raise NotAllowedToList()
    rows = await repo.page(
        reader,
        stmt,
        status=status,
        item_kind=item_kind,
        after=_decode(cursor),
        limit=limit,
    )
    rules = await _rules(reader, project_id) if rows else None
    items = [certification_read(c, p, rules) for c, p in rows[:limit]] if rules else []
    last = rows[limit - 1][0] if len(rows) > limit else None
    return Page[CertificationRead](
        items=items,
        next_cursor=encode_cursor(f"{last.submitted_at.isoformat()}|{last.id}") if last else None,
    )


def _decode(cursor: str | None) -> tuple[datetime, uuid.UUID] | None:
    after = decode_cursor(cursor)
    if after is None:
        return None
    try:
        moment, _, ident = str(after).partition("|")
        when = datetime.fromisoformat(moment)
        key = uuid.UUID(ident)
    except ValueError as exc:
        raise InvalidCursor() from exc
    if when.tzinfo is None or not in_range(when):
        raise InvalidCursor()
    return when, key
