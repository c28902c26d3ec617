"""The routes of a project roster (名册核对), built from a service's own columns: learning's
plans and lessons' review pools are read the same way, by enrollment's reconciliation with the
admin's token (yanxiu.kit.roster)."""

from __future__ import annotations

import uuid

from fastapi import APIRouter

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
    RosterColumns,
    RosterPage,
    digests_for,
    page_for,
)


def project_roster_router(columns: RosterColumns, *, name_zh: str, noun_en: str) -> APIRouter:
    """`GET /projects/{id}/roster/digests` and `GET /projects/{id}/roster` over `columns`."""
    router = APIRouter(tags=["roster"], generate_unique_id_function=operation_id)

    @router.get(
        "/projects/{project_id}/roster/digests",
        operation_id="getRosterDigests",
        response_model=Digests,
        summary=f"{name_zh}名册摘要 {noun_en} by teacher-id bucket, with digests (county admins+)",
    )
    async def digests(
        project_id: uuid.UUID, session: Session, user: CurrentUser, prefix: Prefix = PREFIX_DEFAULT
    ) -> Digests:
        return await digests_for(session, columns, actor=user, prefix=prefix, project_id=project_id)

    @router.get(
        "/projects/{project_id}/roster",
        response_model=RosterPage,
        summary=f"{name_zh}名册 {noun_en} in teacher-id order (county admins and above)",
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
        return await page_for(
            session,
            columns,
            actor=user,
            id_from=id_from,
            id_to=id_to,
            cursor=cursor,
            limit=limit,
            project_id=project_id,
        )

    return router
