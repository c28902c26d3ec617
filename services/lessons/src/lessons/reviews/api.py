"""Routes of reviews (评课) and flags."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Query

from lessons.allocation.schemas import (
    FlagBody,
    FlagRead,
    ReviewCreate,
    ReviewRead,
    RevokeBody,
)
from lessons.deps import EventOutbox
from lessons.reviews import service
from lessons.reviews.rubric import RUBRIC
from yanxiu.kit.audit_api import audited
from yanxiu.kit.bounds import Cursor
from yanxiu.kit.deps import CurrentUser, Reads, Session
from yanxiu.kit.openapi import operation_id
from yanxiu.kit.pagination import Page, decode_uuid_cursor, next_cursor

router = APIRouter(tags=["reviews"], generate_unique_id_function=operation_id)


@router.get("/reviews/rubric", summary="评课量表 the rubric")
async def rubric(user: CurrentUser) -> list[dict[str, object]]:
    return [{"key": k, "name": n, "max_points": m} for k, (n, m) in RUBRIC.items()]


@router.post(
    "/reviews",
    operation_id="submitReview",
    response_model=ReviewRead,
    status_code=201,
    summary="提交评课 review",
)
async def submit(
    body: ReviewCreate, session: Session, user: CurrentUser, outbox: EventOutbox
) -> ReviewRead:
    review = await service.submit(
        session,
        outbox,
        actor=user,
        assignment_id=body.assignment_id,
        scores=body.scores,
        comment=body.comment,
    )
    return ReviewRead.model_validate(review)


@router.get("/reviews", response_model=Page[ReviewRead], summary="评课记录 reviews")
async def list_reviews(
    db: Reads,
    user: CurrentUser,
    lesson_id: uuid.UUID | None = None,
    cursor: Cursor | None = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
) -> Page[ReviewRead]:
    rows = await service.list_reviews(
        db, actor=user, lesson_id=lesson_id, after=decode_uuid_cursor(cursor), limit=limit + 1
    )
    return Page(
        items=[ReviewRead.model_validate(r) for r in rows[:limit]],
        next_cursor=next_cursor([str(r.id) for r in rows], limit),
    )


@router.post(
    "/reviews/{review_id}/revoke",
    operation_id="revokeReview",
    openapi_extra=audited("review.revoke"),
    response_model=ReviewRead,
    summary="作废评课 revoke a review",
)
async def revoke(
    review_id: uuid.UUID, body: RevokeBody, session: Session, user: CurrentUser, outbox: EventOutbox
) -> ReviewRead:
    review = await service.revoke(
        session, outbox, actor=user, review_id=review_id, reason=body.reason
    )
    return ReviewRead.model_validate(review)


@router.post(
    "/lessons/{lesson_id}/flags",
    operation_id="flagLesson",
    response_model=FlagRead,
    status_code=201,
    summary="标记摆拍课 flag a staged lesson",
)
async def flag(
    lesson_id: uuid.UUID, body: FlagBody, session: Session, user: CurrentUser
) -> FlagRead:
    return FlagRead.model_validate(
        await service.flag(session, actor=user, lesson_id=lesson_id, reason=body.reason)
    )
