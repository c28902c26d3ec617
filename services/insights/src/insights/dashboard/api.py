"""Thin routes of the dashboards (看板), under /api/v1/insights at the gateway."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Annotated
from urllib.parse import quote

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import Response

from insights.config import Settings
from insights.dashboard import exports, service
from insights.dashboard.memo import DashboardMemo
from insights.dashboard.org_names import OrgNames
from insights.dashboard.schemas import (
    OrgBreakdown,
    Overview,
    ProjectList,
    TeacherMetric,
    TeacherPage,
    Trend,
    WaitingPage,
)
from insights.dashboard.service import Filters, Reading
from insights.feed.tally import shanghai_day
from yanxiu.kit.deps import CurrentUser, Reads, runtime
from yanxiu.kit.openapi import XLSX, file_response, operation_id
from yanxiu.kit.pagination import MAX_LIMIT

router = APIRouter(tags=["insights"], generate_unique_id_function=operation_id)
OrgId = Annotated[
    str | None, Query(max_length=64, description="an org in your subtree (default: your own)")
]
Stage = Annotated[str | None, Query(max_length=20, description="学段 (senior_high, primary …)")]
Subject = Annotated[str | None, Query(max_length=40, description="学科")]
Rural = Annotated[bool | None, Query(description="true: 农村 only; false: 城镇 only")]
Limit = Annotated[int, Query(ge=1, le=MAX_LIMIT)]
Cursor = Annotated[str | None, Query(max_length=300)]


DEFAULTS = Settings.model_fields


async def reading(request: Request, db: Reads) -> Reading:
    """The driver, this process's memo (on the runtime) and org names with the caller's token.
    (`async`: a plain `def` dependency would run in the thread pool, a thread hop per
    request.)"""
    rt = runtime(request)
    memo = rt.extras.get("dashboard_memo")
    if memo is None:
        memo = rt.extras["dashboard_memo"] = DashboardMemo()
    settings = rt.settings
    names = OrgNames(
        db,
        rt.session_factory,
        memo.names,
        base_url=getattr(settings, "enrollment_url", DEFAULTS["enrollment_url"].default),
        token=request.headers.get("authorization", "").partition(" ")[2].strip(),
        timeout=getattr(settings, "enrollment_timeout_s", DEFAULTS["enrollment_timeout_s"].default),
    )
    return Reading(db=db, memo=memo, names=names)


Read = Annotated[Reading, Depends(reading)]


@router.get("/projects", response_model=ProjectList, summary="看板: 培训项目")
async def list_projects(r: Read, user: CurrentUser) -> ProjectList:
    return await service.list_projects(r, actor=user)


@router.get(
    "/projects/{project_id}/overview",
    response_model=Overview,
    summary="看板: 一个机构的报名、学习、达标、学分、优课、待审 (admins, own subtree)",
)
async def overview(
    project_id: uuid.UUID,
    r: Read,
    user: CurrentUser,
    org_id: OrgId = None,
    stage: Stage = None,
    subject: Subject = None,
    rural: Rural = None,
) -> Overview:
    return await service.overview(
        r,
        actor=user,
        project_id=project_id,
        org_id=org_id,
        filters=Filters(stage=stage, subject=subject, rural=rural),
    )


@router.get(
    "/projects/{project_id}/orgs",
    response_model=OrgBreakdown,
    summary="看板: 下级单位完成情况 (drill down one level)",
)
async def org_breakdown(
    project_id: uuid.UUID,
    r: Read,
    user: CurrentUser,
    org_id: OrgId = None,
    stage: Stage = None,
    subject: Subject = None,
    rural: Rural = None,
) -> OrgBreakdown:
    return await service.breakdown(
        r,
        actor=user,
        project_id=project_id,
        org_id=org_id,
        filters=Filters(stage=stage, subject=subject, rural=rural),
    )


@router.get(
    "/projects/{project_id}/orgs.xlsx",
    response_class=Response,
    responses=file_response(XLSX, "下级单位完成情况 as XLSX"),
    summary="看板: 下级单位完成情况 导出",
)
async def org_breakdown_xlsx(
    project_id: uuid.UUID,
    r: Read,
    user: CurrentUser,
    org_id: OrgId = None,
) -> Response:
    table = await service.breakdown(
        r, actor=user, project_id=project_id, org_id=org_id, filters=Filters()
    )
    projects = await service.list_projects(r, actor=user)
    project = next(p for p in projects.items if p.project_id == project_id)
    body = await exports.org_table(project, table)
    filename = quote(f"{project.year}-{table.org.org_id}-下级单位完成情况.xlsx")
    return Response(
        body,
        media_type=XLSX,
        headers={"Content-Disposition": f"attachment; filename*=UTF-8''{filename}"},
    )


@router.get(
    "/projects/{project_id}/trend",
    response_model=Trend,
    summary="看板: 每日累计 (registered, plan, started, met) for the last days",
)
async def trend(
    project_id: uuid.UUID,
    r: Read,
    user: CurrentUser,
    org_id: OrgId = None,
    days: Annotated[int, Query(ge=1, le=366)] = 30,
) -> Trend:
    return await service.trend(
        r,
        actor=user,
        project_id=project_id,
        org_id=org_id,
        days=days,
        today=shanghai_day(datetime.now(UTC)),
    )


@router.get(
    "/projects/{project_id}/teachers",
    response_model=TeacherPage,
    summary="看板: 一个数字背后的教师 (masked names, paged)",
)
async def teachers(
    project_id: uuid.UUID,
    r: Read,
    user: CurrentUser,
    metric: Annotated[TeacherMetric, Query()] = "registered",
    org_id: OrgId = None,
    cursor: Cursor = None,
    limit: Limit = 50,
) -> TeacherPage:
    return await service.teachers(
        r,
        actor=user,
        project_id=project_id,
        org_id=org_id,
        metric=metric,
        cursor=cursor,
        limit=limit,
    )


@router.get("/waiting", response_model=WaitingPage, summary="看板: 待我处理的线下学时")
async def waiting(
    r: Read, user: CurrentUser, cursor: Cursor = None, limit: Limit = 50
) -> WaitingPage:
    return await service.waiting(r, actor=user, cursor=cursor, limit=limit)
