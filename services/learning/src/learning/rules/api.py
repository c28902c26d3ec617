"""Routes of rules: a project's rule set (PUT by its owning province or city) and the shipped
sets."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Path

from learning.rules import service
from learning.rules.catalogue import shipped
from learning.rules.ruleset import RuleSet
from learning.rules.schemas import ProjectRulesPut, ProjectRulesRead, RuleSetSummary
from yanxiu.kit.audit_api import audited
from yanxiu.kit.deps import CurrentUser, Reads, Session
from yanxiu.kit.openapi import operation_id

router = APIRouter(tags=["rules"], generate_unique_id_function=operation_id)


@router.get(
    "/rule-sets",
    operation_id="listRuleSets",
    response_model=list[RuleSetSummary],
    summary="学习规则 shipped rule sets",
)
async def rule_sets(user: CurrentUser) -> list[RuleSetSummary]:
    return [RuleSetSummary.model_validate(s, from_attributes=True) for s in shipped().values()]


@router.get("/rule-sets/{code}", response_model=RuleSet, summary="one shipped rule set")
async def rule_set(code: Annotated[str, Path(max_length=60)], user: CurrentUser) -> RuleSet:
    return service.resolve(service.ProjectRulesPut(year=2000, rule_set=code))


@router.put(
    "/projects/{project_id}/rules",
    operation_id="setProjectRules",
    openapi_extra=audited("rules.assign"),
    response_model=ProjectRulesRead,
    summary="设置项目学习规则 assign a project's rule set (the owning province or city)",
)
async def put_rules(
    project_id: uuid.UUID, body: ProjectRulesPut, session: Session, user: CurrentUser
) -> ProjectRulesRead:
    return await service.assign(session, actor=user, project_id=project_id, body=body)


@router.get(
    "/projects/{project_id}/rules",
    operation_id="getProjectRules",
    response_model=ProjectRulesRead,
    summary="项目学习规则 a project's rule set and windows",
)
async def get_rules(project_id: uuid.UUID, db: Reads, user: CurrentUser) -> ProjectRulesRead:
    return await service.project_rules(db, actor=user, project_id=project_id)
