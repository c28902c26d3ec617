"""工作坊: workshops per stage+subject, 3–6 hosts, registered teachers join, cases climb county →
city → province under a 5% cap per level. Use cases; nothing commits here.

Recommendation cap (推荐名额): a level recommends at most floor(5% × its case count) upward, so a
unit with fewer than 20 cases recommends none; a county's cases are those of its own workshops,
a city's are those of its own workshops plus those its counties recommended to it."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from enrollment import catalog
from enrollment.audit import AUDIT
from enrollment.errors import (
    AlreadyMember,
    CaseNotAtYourLevel,
    CaseNotFound,
    NotAWorkshopMember,
    NotRegisteredForWorkshop,
    ProjectNotFound,
    RecommendationQuotaReached,
    TeacherNotFound,
    UnknownSubject,
    WorkshopExists,
    WorkshopHostCount,
    WorkshopKindNotAllowed,
    WorkshopNotActive,
    WorkshopNotFound,
)
from enrollment.models import Workshop, WorkshopCase, WorkshopHost, WorkshopMember
from enrollment.registration import repository as registration_repo
from enrollment.registration.scope import SHANGHAI, in_reach, uuid_after
from enrollment.registration.service import teacher_org
from enrollment.teachers import repository as teacher_repo
from enrollment.workshops import repository as repo
from enrollment.workshops.schemas import (
    MAX_HOSTS,
    MIN_HOSTS,
    CaseCreate,
    CaseRead,
    Host,
    WorkshopCreate,
    WorkshopRead,
)
from yanxiu.contracts.enrollment import WorkshopJoined
from yanxiu.kit.auth import ADMIN_LEVEL, Principal, Role
from yanxiu.kit.errors import Forbidden
from yanxiu.kit.outbox import Outbox
from yanxiu.kit.pagination import Page, encode_cursor
from yanxiu.kit.scope import may_read_teacher_record, own_teacher_id

LEVELS = {1: "province", 2: "city", 3: "county"}
QUOTA_PERCENT = 5


def recommendation_cap(case_count: int) -> int:
    """floor(5% of the level's cases), never below 0."""
    return max(0, case_count * QUOTA_PERCENT // 100)


def _visible(actor: Principal, ws: Workshop) -> bool:
    """The workshop's unit is the caller's own, an ancestor of it, or inside its subtree."""
    path = ws.org_path
    return actor.covers(path) or tuple(actor.org_path[: len(path)]) == tuple(path)


async def _workshop(session: AsyncSession, actor: Principal, workshop_id: uuid.UUID) -> Workshop:
    ws = await repo.get_workshop(session, workshop_id)
    if ws is None or not _visible(actor, ws):
        raise WorkshopNotFound()
    return ws


async def _owned(session: AsyncSession, actor: Principal, workshop_id: uuid.UUID) -> Workshop:
    """Only the admin of the unit that created the workshop manages it."""
    ws = await _workshop(session, actor, workshop_id)
    if actor.role not in ADMIN_LEVEL or tuple(actor.org_path) != tuple(ws.org_path):
        raise Forbidden("只有创建该工作坊的管理员可以管理它", "Only the creating unit manages it")
    return ws


async def create_workshop(
    session: AsyncSession, *, actor: Principal, data: WorkshopCreate
) -> Workshop:
    """创建工作坊: city/county admins create subject workshops, the province topic ones."""
    if data.kind == "subject" and actor.role not in (Role.city_admin, Role.county_admin):
        raise WorkshopKindNotAllowed()
    if data.kind == "topic" and actor.role != Role.province_admin:
        raise WorkshopKindNotAllowed()
    project = await registration_repo.get_project(session, data.project_id)
    if project is None or not in_reach(actor, project):
        raise ProjectNotFound()
    if data.kind == "subject" and not catalog.is_subject_of(project.stage, data.subject or ""):
        raise UnknownSubject()
    path = actor.org_path
    if await repo.find_workshop(session, project_id=project.id, org_id=path[-1], name=data.name):
        raise WorkshopExists()
    ws = Workshop(
        id=uuid.uuid4(),
        project_id=project.id,
        kind=data.kind,
        level=LEVELS[len(path)],
        org_id=path[-1],
        province_id=path[0],
        city_id=path[1] if len(path) > 1 else None,
        county_id=path[2] if len(path) > 2 else None,
        stage=project.stage,
        subject=data.subject,
        name=data.name,
        status="draft",
        created_by=actor.user_id,
    )
    await repo.add(session, ws)
    await AUDIT.record(
        session,
        actor=actor,
        action="workshop.create",
        target_type="workshop",
        target_id=str(ws.id),
        target_org=ws.org_path,
        after={"project_id": ws.project_id, "kind": ws.kind, "name": ws.name},
    )
    return ws


async def get_workshop(
    session: AsyncSession, *, actor: Principal, workshop_id: uuid.UUID
) -> Workshop:
    return await _workshop(session, actor, workshop_id)


async def list_workshops(
    session: AsyncSession,
    *,
    actor: Principal,
    project_id: uuid.UUID,
    subject: str | None,
    cursor: str | None,
    limit: int,
) -> Page[WorkshopRead]:
    rows = await repo.page_workshops(
        session,
        project_id=project_id,
        org_path=actor.org_path,
        subject=subject,
        after=uuid_after(cursor),
        limit=limit,
    )
    nxt = encode_cursor(str(rows[limit - 1].id)) if len(rows) > limit else None
    return Page[WorkshopRead](
        items=[WorkshopRead.model_validate(w) for w in rows[:limit]], next_cursor=nxt
    )


def _ensure_host_count(count: int) -> None:
    if not MIN_HOSTS <= count <= MAX_HOSTS:
        raise WorkshopHostCount(
            f"每个工作坊须配 {MIN_HOSTS}-{MAX_HOSTS} 名主持人，当前 {count} 名",
            f"A workshop has {MIN_HOSTS} to {MAX_HOSTS} hosts; it has {count}",
        )


async def set_hosts(
    session: AsyncSession, *, actor: Principal, workshop_id: uuid.UUID, hosts: list[Host]
) -> list[WorkshopHost]:
    """指定主持人: the creating admin names the workshop's 3–6 hosts (replacing the list)."""
    ws = await _owned(session, actor, workshop_id)
    unique = {h.user_id: h for h in hosts}
    _ensure_host_count(len(unique))
    rows = [
        WorkshopHost(workshop_id=ws.id, user_id=h.user_id, name=h.name) for h in unique.values()
    ]
    before = [h.user_id for h in await repo.hosts(session, ws.id)]
    await repo.replace_hosts(session, workshop_id=ws.id, hosts=rows)
    await AUDIT.record(
        session,
        actor=actor,
        action="workshop.set_hosts",
        target_type="workshop",
        target_id=str(ws.id),
        target_org=ws.org_path,
        before={"hosts": before},
        after={"hosts": list(unique)},
    )
    return await repo.hosts(session, ws.id)


async def list_hosts(
    session: AsyncSession, *, actor: Principal, workshop_id: uuid.UUID
) -> list[WorkshopHost]:
    ws = await _workshop(session, actor, workshop_id)
    return await repo.hosts(session, ws.id)


async def activate(session: AsyncSession, *, actor: Principal, workshop_id: uuid.UUID) -> Workshop:
    """启用: a workshop opens to teachers once it has 3–6 hosts."""
    ws = await _owned(session, actor, workshop_id)
    _ensure_host_count(len(await repo.hosts(session, ws.id)))
    was, ws.status = ws.status, "active"
    await session.flush()
    await AUDIT.record(
        session,
        actor=actor,
        action="workshop.activate",
        target_type="workshop",
        target_id=str(ws.id),
        target_org=ws.org_path,
        before={"status": was},
        after={"status": ws.status},
    )
    return ws


async def join(
    session: AsyncSession,
    outbox: Outbox,
    *,
    actor: Principal,
    workshop_id: uuid.UUID,
    teacher_id: uuid.UUID | None,
    now: datetime | None = None,
) -> WorkshopMember:
    """加入工作坊: a teacher registered in the project, of the workshop's stage and subject,
    joins a workshop of their own unit or above. The teacher joins themself; their school's
    admin may join them. "Their own unit" is the school enrollment stores for the teacher,
    not the one a (possibly older) token names."""
    actor.ensure_role(Role.teacher, Role.school_admin)
    if actor.role == Role.teacher:
        teacher_id = own_teacher_id(actor)
    teacher = await teacher_repo.get_teacher(session, teacher_id) if teacher_id else None
    if teacher is None or not may_read_teacher_record(
        actor, teacher_id=teacher.id, org_path=teacher.org_path
    ):
        raise TeacherNotFound()
    ws = await repo.get_workshop(session, workshop_id)
    if ws is None or tuple(teacher.org_path[: len(ws.org_path)]) != tuple(ws.org_path):
        raise WorkshopNotFound()
    if ws.status != "active":
        raise WorkshopNotActive()
    reg = await repo.registration_of(session, project_id=ws.project_id, teacher_id=teacher.id)
    if reg is None or teacher.stage != ws.stage or (ws.subject and reg.subject != ws.subject):
        raise NotRegisteredForWorkshop()
    if await repo.get_member(session, workshop_id=ws.id, teacher_id=teacher.id):
        raise AlreadyMember()
    member = WorkshopMember(
        workshop_id=ws.id, teacher_id=teacher.id, joined_at=now or datetime.now(SHANGHAI)
    )
    await repo.add(session, member)
    await AUDIT.record(
        session,
        actor=actor,
        action="workshop.join",
        target_type="workshop",
        target_id=str(ws.id),
        target_org=teacher.org_path,
        after={"teacher_id": teacher.id},
    )
    await outbox.add(
        session,
        WorkshopJoined(
            workshop_id=ws.id,
            project_id=ws.project_id,
            teacher_id=teacher.id,
            stage=ws.stage,
            subject=ws.subject,
            workshop_level=ws.level,
            org=teacher_org(teacher),
            joined_at=member.joined_at,
        ),
    )
    return member


async def submit_case(
    session: AsyncSession, *, actor: Principal, workshop_id: uuid.UUID, data: CaseCreate
) -> WorkshopCase:
    """提交案例: a member submits their case, or a host collects one from a member."""
    actor.ensure_role(Role.teacher, Role.workshop_host)
    ws = await repo.get_workshop(session, workshop_id)
    if ws is None:
        raise WorkshopNotFound()
    if actor.role == Role.workshop_host:
        if not await repo.is_host(session, workshop_id=ws.id, user_id=actor.user_id):
            raise WorkshopNotFound()
        author = data.author_teacher_id
    else:
        author = uuid.UUID(actor.teacher_id) if actor.teacher_id else None
    member = (
        await repo.get_member(session, workshop_id=ws.id, teacher_id=author) if author else None
    )
    if member is None:
        raise NotAWorkshopMember()
    case = WorkshopCase(
        id=uuid.uuid4(),
        workshop_id=ws.id,
        project_id=ws.project_id,
        title=data.title,
        author_teacher_id=member.teacher_id,
        submitted_by=actor.user_id,
        origin_level=ws.level,
        city_id=ws.city_id,
        county_id=ws.county_id,
    )
    await repo.add(session, case)
    await AUDIT.record(
        session,
        actor=actor,
        action="workshop_case.submit",
        target_type="workshop_case",
        target_id=str(case.id),
        target_org=ws.org_path,
        after={"workshop_id": ws.id, "title": case.title, "author_teacher_id": member.teacher_id},
    )
    return case


async def list_cases(
    session: AsyncSession,
    *,
    actor: Principal,
    workshop_id: uuid.UUID,
    cursor: str | None,
    limit: int,
) -> Page[CaseRead]:
    """A workshop's cases, for its hosts and the admins above it."""
    ws = await repo.get_workshop(session, workshop_id)
    hosting = ws is not None and await repo.is_host(
        session, workshop_id=ws.id, user_id=actor.user_id
    )
    if ws is None or not (hosting or (actor.role in ADMIN_LEVEL and _visible(actor, ws))):
        raise WorkshopNotFound()
    rows = await repo.page_cases(session, workshop_id=ws.id, after=uuid_after(cursor), limit=limit)
    nxt = encode_cursor(str(rows[limit - 1].id)) if len(rows) > limit else None
    return Page[CaseRead](items=[CaseRead.model_validate(c) for c in rows[:limit]], next_cursor=nxt)


async def recommend(
    session: AsyncSession, *, actor: Principal, case_id: uuid.UUID, now: datetime | None = None
) -> WorkshopCase:
    """推荐案例: the county recommends to the city, the city to the province (each within its
    5% cap); the province selects exemplary cases (优秀案例)."""
    actor.ensure_role(Role.county_admin, Role.city_admin, Role.province_admin)
    case = await repo.get_case(session, case_id)
    ws = await repo.get_workshop(session, case.workshop_id) if case else None
    if case is None or ws is None or not actor.covers(ws.org_path):
        raise CaseNotFound()
    at = now or datetime.now(SHANGHAI)
    path = actor.org_path
    if actor.role == Role.county_admin:
        if case.origin_level != "county" or case.county_recommended_at is not None:
            raise CaseNotAtYourLevel()
        await repo.lock_quota(session, project_id=case.project_id, unit=path[2])
        total, used = await repo.county_case_counts(
            session, project_id=case.project_id, county_id=path[2]
        )
        _ensure_quota(total, used)
        case.county_recommended_at = at
    elif actor.role == Role.city_admin:
        at_city = case.origin_level == "city" or case.county_recommended_at is not None
        if not at_city or case.city_recommended_at is not None:
            raise CaseNotAtYourLevel()
        await repo.lock_quota(session, project_id=case.project_id, unit=path[1])
        total, used = await repo.city_case_counts(
            session, project_id=case.project_id, city_id=path[1]
        )
        _ensure_quota(total, used)
        case.city_recommended_at = at
    else:
        at_province = case.origin_level == "province" or case.city_recommended_at is not None
        if not at_province or case.exemplary_at is not None:
            raise CaseNotAtYourLevel()
        case.exemplary_at = at
    await session.flush()
    await AUDIT.record(
        session,
        actor=actor,
        action="workshop_case.recommend",
        target_type="workshop_case",
        target_id=str(case.id),
        target_org=ws.org_path,
        after={"by_level": LEVELS[len(path)], "at": at},
    )
    return case


def _ensure_quota(total: int, used: int) -> None:
    cap = recommendation_cap(total)
    if used >= cap:
        raise RecommendationQuotaReached(
            f"本级共 {total} 个案例，最多推荐 {cap} 个（5%，向下取整），已推荐 {used} 个",
            f"{total} cases at this level allow {cap} recommendations (5%, rounded down); "
            f"{used} made",
            cap=cap,
        )
