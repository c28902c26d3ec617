"""Thin routes of showcase: 创课, 逐级遴选, 评奖, 名额, 成绩排名 and the Annex 3 export."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Annotated
from urllib.parse import quote

from fastapi import APIRouter, Query, Request
from fastapi.responses import JSONResponse, Response

from lessons.deps import EventOutbox, LessonsSettings, Rules
from lessons.showcase import awards, exports, quotas, scores, service
from lessons.showcase.enrollment_client import EnrollmentClient
from lessons.showcase.repository import LessonFilter
from lessons.showcase.schemas import (
    AwardCreate,
    AwardRead,
    CityAward,
    Curriculum,
    LessonCreate,
    LessonRead,
    LessonScore,
    LessonUpdate,
    Level,
    PromotionCreate,
    PromotionRead,
    QuotaTableRead,
)
from yanxiu.contracts.enrollment import Stage
from yanxiu.kit.audit_api import audited
from yanxiu.kit.deps import CurrentUser, Reads, Session, runtime
from yanxiu.kit.idempotency import IdempotencyKey, once
from yanxiu.kit.openapi import XLSX, file_response, operation_id
from yanxiu.kit.pagination import MAX_LIMIT, Page

router = APIRouter(tags=["lessons"], generate_unique_id_function=operation_id)
Limit = Annotated[int, Query(ge=1, le=MAX_LIMIT)]
Cursor = Annotated[str | None, Query(max_length=300)]
OrgId = Annotated[str | None, Query(max_length=40)]
Year = Annotated[int, Query(ge=2000, le=2100)]


@router.post("/lessons", response_model=LessonRead, status_code=201, summary="创课")
async def create_lesson(
    body: LessonCreate,
    request: Request,
    session: Session,
    user: CurrentUser,
    outbox: EventOutbox,
    idempotency_key: IdempotencyKey = None,
) -> JSONResponse:
    async def run() -> LessonRead:
        lesson = await service.create_lesson(session, actor=user, data=body, outbox=outbox)
        return LessonRead.model_validate(lesson)

    return await once(
        session,
        runtime(request).spec.table("idempotency_keys"),
        key=idempotency_key,
        actor=user.user_id,
        operation=f"POST {request.url.path}",
        request=body,
        run=run,
    )


@router.get("/lessons", response_model=Page[LessonRead], summary="课例列表")
async def list_lessons(
    db: Reads,
    user: CurrentUser,
    year: Annotated[int | None, Query(ge=2000, le=2100)] = None,
    stage: Stage | None = None,
    subject: Annotated[str | None, Query(max_length=40)] = None,
    grade: Annotated[str | None, Query(max_length=20)] = None,
    level: Level | None = None,
    curriculum: Curriculum | None = None,
    award: CityAward | None = None,
    provincial: Annotated[bool | None, Query(description="省级优课 only")] = None,
    city_id: OrgId = None,
    county_id: OrgId = None,
    school_id: OrgId = None,
    cursor: Cursor = None,
    limit: Limit = 100,
) -> Page[LessonRead]:
    where = LessonFilter(
        scope=(),
        year=year,
        stage=stage,
        subject=subject,
        grade=grade,
        level=level,
        curriculum=curriculum,
        award=award,
        provincial=provincial,
        city_id=city_id,
        county_id=county_id,
        school_id=school_id,
    )
    return await service.list_lessons(db, actor=user, where=where, cursor=cursor, limit=limit)


@router.get("/lessons/{lesson_id}", response_model=LessonRead)
async def get_lesson(lesson_id: uuid.UUID, db: Reads, user: CurrentUser) -> LessonRead:
    lesson = await service.get_lesson(db, actor=user, lesson_id=lesson_id)
    return LessonRead.model_validate(lesson)


@router.patch(
    "/lessons/{lesson_id}",
    openapi_extra=audited("lesson.update"),
    response_model=LessonRead,
    summary="修改课例",
)
async def update_lesson(
    lesson_id: uuid.UUID,
    body: LessonUpdate,
    session: Session,
    user: CurrentUser,
    outbox: EventOutbox,
) -> LessonRead:
    lesson = await service.update_lesson(
        session, actor=user, lesson_id=lesson_id, data=body, outbox=outbox
    )
    return LessonRead.model_validate(lesson)


@router.get(
    "/lessons/{lesson_id}/promotions",
    operation_id="listPromotions",
    response_model=Page[PromotionRead],
    summary="遴选记录 (at most four: one page)",
)
async def selections(lesson_id: uuid.UUID, db: Reads, user: CurrentUser) -> Page[PromotionRead]:
    return await service.selections(db, actor=user, lesson_id=lesson_id)


@router.post(
    "/lessons/{lesson_id}/promotions",
    operation_id="promoteLesson",
    openapi_extra=audited("lesson.promote"),
    response_model=LessonRead,
    summary="逐级遴选 (晒课/赛课)",
)
async def promote(
    lesson_id: uuid.UUID,
    body: PromotionCreate,
    session: Session,
    user: CurrentUser,
    rules: Rules,
    outbox: EventOutbox,
) -> LessonRead:
    lesson = await service.promote(
        session,
        actor=user,
        lesson_id=lesson_id,
        level=body.level,
        rules=rules,
        now=datetime.now(UTC),
        outbox=outbox,
    )
    return LessonRead.model_validate(lesson)


@router.post(
    "/lessons/{lesson_id}/award",
    openapi_extra=audited("lesson.award"),
    response_model=AwardRead,
    status_code=201,
    summary="市级评奖",
)
async def award_lesson(
    lesson_id: uuid.UUID,
    body: AwardCreate,
    request: Request,
    session: Session,
    user: CurrentUser,
    rules: Rules,
    outbox: EventOutbox,
    idempotency_key: IdempotencyKey = None,
) -> JSONResponse:
    async def run() -> AwardRead:
        row = await awards.award_lesson(
            session,
            actor=user,
            lesson_id=lesson_id,
            award=body.award,
            rules=rules,
            outbox=outbox,
            now=datetime.now(UTC),
        )
        return AwardRead.model_validate(row)

    return await once(
        session,
        runtime(request).spec.table("idempotency_keys"),
        key=idempotency_key,
        actor=user.user_id,
        operation=f"POST {request.url.path}",
        request=body,
        run=run,
    )


@router.post(
    "/lessons/{lesson_id}/provincial-selection",
    operation_id="selectProvincialLesson",
    openapi_extra=audited("lesson.select_provincial"),
    response_model=AwardRead,
    status_code=201,
    summary="省级优课评选",
)
async def select_provincial(
    lesson_id: uuid.UUID, session: Session, user: CurrentUser, outbox: EventOutbox
) -> AwardRead:
    row = await awards.select_provincial(
        session, actor=user, lesson_id=lesson_id, outbox=outbox, now=datetime.now(UTC)
    )
    return AwardRead.model_validate(row)


@router.get("/quotas", response_model=QuotaTableRead, summary="市级优课名额分配表")
async def quota_table(year: Year, db: Reads, user: CurrentUser, rules: Rules) -> QuotaTableRead:
    return await quotas.quota_table(db, actor=user, rules=rules, year=year)


@router.get(
    "/scores",
    operation_id="getScoreRanking",
    response_model=Page[LessonScore],
    summary="省级优课观评总成绩排名",
)
async def ranking(
    year: Year,
    stage: Stage,
    subject: Annotated[str, Query(min_length=1, max_length=40)],
    db: Reads,
    user: CurrentUser,
    rules: Rules,
    cursor: Cursor = None,
    limit: Limit = 100,
) -> Page[LessonScore]:
    return await scores.ranking(
        db,
        actor=user,
        rules=rules,
        year=year,
        stage=stage,
        subject=subject,
        cursor=cursor,
        limit=limit,
    )


@router.get(
    "/exports/city-summary",
    operation_id="exportCitySummary",
    summary="附件3 市级优课信息汇总表 (XLSX)",
    response_class=Response,
    responses=file_response(XLSX, "市级优课信息汇总表 (XLSX workbook)"),
)
async def city_summary(
    year: Year,
    city_id: Annotated[str, Query(min_length=1, max_length=40)],
    request: Request,
    db: Reads,
    user: CurrentUser,
    rules: Rules,
    settings: LessonsSettings,
) -> Response:
    token = request.headers.get("authorization", "").partition(" ")[2].strip()
    client = EnrollmentClient(
        settings.enrollment_url, token=token, timeout=settings.enrollment_timeout_s
    )
    body = await exports.city_summary(
        db,
        actor=user,
        rules=rules,
        enrollment=client,
        year=year,
        city_id=city_id,
        now=datetime.now(UTC),
    )
    filename = quote(f"{year}-{city_id}-市级优课信息汇总表.xlsx")
    return Response(
        body,
        media_type=XLSX,
        headers={"Content-Disposition": f"attachment; filename*=UTF-8''{filename}"},
    )
