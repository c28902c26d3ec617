"""Thin routes of progress: heartbeats (single and the app's batches) go through the process's
batcher and are answered once their batch is committed; assessments; progress and refusals."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Annotated, Any

import orjson
from fastapi import APIRouter, Query, Request, Response
from fastapi.exceptions import RequestValidationError
from pydantic import ValidationError

from learning.progress import assessments, reports
from learning.progress.assessments import learner
from learning.progress.batcher import BatcherClosed
from learning.progress.errors import REFUSALS
from learning.progress.schemas import (
    AssessmentIn,
    AssessmentResult,
    HeartbeatBatchIn,
    HeartbeatBatchResult,
    HeartbeatIn,
    HeartbeatResult,
    ProgressRead,
    RefusalReport,
)
from learning.progress.service import Beat, Result
from learning.progress.writer import heartbeat_batcher
from yanxiu.kit.bounds import Day
from yanxiu.kit.deps import CurrentUser, Reads, Session, current_principal, runtime
from yanxiu.kit.errors import DomainError, ServiceUnavailable
from yanxiu.kit.openapi import operation_id
from yanxiu.kit.pagination import MAX_LIMIT, Page

router = APIRouter(generate_unique_id_function=operation_id)
Cursor = Annotated[str | None, Query(max_length=200)]
Limit = Annotated[int, Query(ge=1, le=MAX_LIMIT)]
OrgFilter = Annotated[str | None, Query(max_length=40)]
CLOCK = "progress.clock"


def _now(request: Request) -> datetime:
    """The server's receipt time; tests put a controllable clock in `rt.extras`."""
    clock = runtime(request).extras.get(CLOCK)
    return clock() if clock is not None else datetime.now(UTC)


def _beat(teacher_id: uuid.UUID, body: HeartbeatIn, received_at: datetime) -> Beat:
    return Beat(
        teacher_id=teacher_id,
        course_id=body.course_id,
        project_id=body.project_id,
        session_id=body.device_session_id,
        position=body.position,
        segments=tuple(body.segments),
        client_at=body.client_at,
        received_at=received_at,
    )


def _result(course_id: uuid.UUID, r: Result) -> dict[str, object]:
    if isinstance(r, DomainError):
        return {"outcome": r.code, "accepted": False, "course_id": str(course_id)}
    return {
        "outcome": r.outcome,
        "accepted": r.accepted,
        "course_id": str(r.course_id),
        "credited_seconds": round(r.credited_seconds, 3),
        "watched_seconds": round(r.watched_seconds, 3),
        "video_seconds": r.video_seconds,
        "watched": r.watched,
        "completed": r.completed,
    }


async def _submit(request: Request, beats: list[Beat]) -> list[Result]:
    try:
        return await heartbeat_batcher(runtime(request)).submit(beats)
    except BatcherClosed as exc:
        raise ServiceUnavailable("服务正在停止，请重试", "Shutting down; please retry") from exc


def _parse(raw: bytes) -> HeartbeatIn:
    try:
        return HeartbeatIn.model_validate_json(raw)
    except ValidationError as exc:
        errors = [{**e, "loc": ("body", *e["loc"])} for e in exc.errors(include_url=False)]
        raise RequestValidationError(errors) from exc


_BODY = {"$ref": "#/components/schemas/HeartbeatIn"}


@router.post(
    "/progress",
    operation_id="postHeartbeat",
    response_model=HeartbeatResult,
    tags=["progress"],
    summary="学习心跳 one heartbeat (answered once durable)",
    openapi_extra={
        "requestBody": {"required": True, "content": {"application/json": {"schema": _BODY}}}
    },
    responses={
        409: {
            "description": "Refused: device_session_superseded, playback_too_fast, "
            "seek_ahead, or a window closed"
        }
    },
)
async def heartbeat(request: Request) -> Response:
    """The hottest route: the token and body are read here rather than through FastAPI's
    dependency and body machinery, which cost more than the rest of the request, and the
    service dispatches it ahead of its router (`hot_routes` in learning.main)."""
    received = _now(request)
    user = current_principal(request)
    body = _parse(await request.body())
    beat = _beat(learner(user), body, received)
    (result,) = await _submit(request, [beat])
    if isinstance(result, DomainError):
        raise result
    payload = _result(body.course_id, result)
    if not result.accepted:
        extra: dict[str, Any] = {k: v for k, v in payload.items() if k != "outcome"}
        raise REFUSALS[result.outcome](**extra)
    return Response(orjson.dumps(payload), media_type="application/json")


@router.post(
    "/progress/batch",
    operation_id="postHeartbeatBatch",
    response_model=HeartbeatBatchResult,
    tags=["progress"],
    summary="批量心跳 the app's batched heartbeats, judged in order",
)
async def heartbeat_batch(body: HeartbeatBatchIn, request: Request, user: CurrentUser) -> Response:
    received = _now(request)
    teacher_id = learner(user)
    beats = [_beat(teacher_id, hb, received) for hb in body.heartbeats]
    results = await _submit(request, beats)
    payload = {"results": [_result(b.course_id, r) for b, r in zip(beats, results, strict=True)]}
    return Response(orjson.dumps(payload), media_type="application/json")


@router.post(
    "/assessments",
    operation_id="submitAssessment",
    response_model=AssessmentResult,
    status_code=201,
    tags=["progress"],
    summary="考核 answer a course's assessment (scored on the server)",
)
async def assess(body: AssessmentIn, session: Session, user: CurrentUser) -> AssessmentResult:
    return await assessments.submit(session, actor=user, data=body)


@router.get(
    "/progress/refusals",
    operation_id="getHeartbeatRefusals",
    response_model=RefusalReport,
    tags=["progress"],
    summary="拒绝计数 refused heartbeats by reason and school (admins, own scope)",
)
async def refusals(
    db: Reads,
    user: CurrentUser,
    project_id: uuid.UUID | None = None,
    city_id: OrgFilter = None,
    county_id: OrgFilter = None,
    school_id: OrgFilter = None,
    day_from: Day | None = None,
    day_to: Day | None = None,
    cursor: Cursor = None,
    limit: Limit = 100,
) -> RefusalReport:
    return await reports.refusal_report(
        db,
        actor=user,
        project_id=project_id,
        city_id=city_id,
        county_id=county_id,
        school_id=school_id,
        day_from=day_from,
        day_to=day_to,
        cursor=cursor,
        limit=limit,
    )


@router.get(
    "/progress/{teacher_id}",
    operation_id="getTeacherProgress",
    response_model=Page[ProgressRead],
    tags=["progress"],
    summary="学习进度 a teacher's progress per course",
)
async def progress(
    teacher_id: uuid.UUID,
    db: Reads,
    user: CurrentUser,
    cursor: Cursor = None,
    limit: Limit = 100,
) -> Page[ProgressRead]:
    return await reports.progress_for(
        db, actor=user, teacher_id=teacher_id, cursor=cursor, limit=limit
    )
