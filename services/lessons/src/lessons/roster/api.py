"""Routes of the roster (名册核对): read by enrollment's reconciliation with the admin's token."""

from __future__ import annotations

import uuid

from fastapi import APIRouter

from lessons.roster import service
from yanxiu.kit.deps import CurrentUser, Session
from yanxiu.kit.roster import (
    PAGE_DEFAULT,
    PREFIX_DEFAULT,
    Digests,
    IdFrom,
    IdTo,
    PageCursor,
    PageLimit,
    Prefix,
    RosterPage,
)

router = APIRouter(tags=["roster"])


@router.get(
    "/projects/{project_id}/roster/digests",
    response_model=Digests,
    summary="观评课评审库摘要 pool members by teacher-id bucket, with digests (county admins+)",
)
async def digests(
    project_id: uuid.UUID, session: Session, user: CurrentUser, prefix: Prefix = PREFIX_DEFAULT
) -> Digests:
    return await service.digests(session, actor=user, project_id=project_id, prefix=prefix)


@router.get(
    "/projects/{project_id}/roster",
    response_model=RosterPage,
    summary="观评课评审库名册 pool members in teacher-id order (county admins and above)",
)
async def roster(
    project_id: uuid.UUID,
    session: Session,
    user: CurrentUser,
    id_from: IdFrom = None,
    id_to: IdTo = None,
    cursor: PageCursor = None,
    limit: PageLimit = PAGE_DEFAULT,
) -> RosterPage:
    return await service.page(
        session,
        actor=user,
        project_id=project_id,
        id_from=id_from,
        id_to=id_to,
        cursor=cursor,
        limit=limit,
    )
