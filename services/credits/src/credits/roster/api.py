"""Routes of the roster (名册核对): read by enrollment's reconciliation with the admin's token."""

from __future__ import annotations

from fastapi import APIRouter

from credits.roster import service
from yanxiu.kit.deps import CurrentUser, Session
from yanxiu.kit.openapi import operation_id
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

router = APIRouter(tags=["roster"], generate_unique_id_function=operation_id)


@router.get(
    "/roster/digests",
    operation_id="getRosterDigests",
    response_model=Digests,
    summary="学分登记教师名册摘要 known teachers by teacher-id bucket, with digests",
)
async def digests(session: Session, user: CurrentUser, prefix: Prefix = PREFIX_DEFAULT) -> Digests:
    return await service.digests(session, actor=user, prefix=prefix)


@router.get(
    "/roster",
    response_model=RosterPage,
    summary="学分登记教师名册 known teachers in teacher-id order (county admins and above)",
)
async def roster(
    session: Session,
    user: CurrentUser,
    id_from: IdFrom = None,
    id_to: IdTo = None,
    cursor: PageCursor = None,
    limit: PageLimit = PAGE_DEFAULT,
) -> RosterPage:
    return await service.page(
        session, actor=user, id_from=id_from, id_to=id_to, cursor=cursor, limit=limit
    )
