"""Thin routes: 组织机构: the province → city → county → school tree and its admins."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from enrollment.orgs import service
from enrollment.orgs.schemas import OrgRead
from yanxiu.kit.deps import CurrentUser, Session

router = APIRouter()


@router.get("/orgs", response_model=list[OrgRead], tags=["orgs"], summary="组织机构 children")
async def list_orgs(
    session: Session,
    user: CurrentUser,
    parent_id: Annotated[str | None, Query(max_length=40)] = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
) -> list[OrgRead]:

    rows = await service.list_orgs(session, actor=user, parent_id=parent_id, limit=limit)
    return [OrgRead.model_validate(o) for o in rows]
