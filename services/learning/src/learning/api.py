"""Thin routes of the learning service."""

from __future__ import annotations

import uuid

from fastapi import APIRouter

from learning import service
from learning.schemas import PlanRead
from yanxiu.kit.deps import CurrentUser, Reads
from yanxiu.kit.openapi import operation_id

router = APIRouter(generate_unique_id_function=operation_id)


@router.get(
    "/plans/{teacher_id}",
    operation_id="listPlans",
    response_model=list[PlanRead],
    tags=["plans"],
    summary="学习计划 a teacher's learning plans",
)
async def plans(teacher_id: uuid.UUID, db: Reads, user: CurrentUser) -> list[PlanRead]:
    return [
        PlanRead.model_validate(p)
        for p in await service.plans_for(db, actor=user, teacher_id=teacher_id)
    ]
