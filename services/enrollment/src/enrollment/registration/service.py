"""培训项目与报名: yearly projects and the registration cascade. Use cases; nothing commits here."""

from __future__ import annotations

import uuid
from datetime import datetime
from zoneinfo import ZoneInfo

from sqlalchemy.ext.asyncio import AsyncSession

from enrollment.errors import (
    AlreadyRegistered,
    ProjectExists,
    ProjectNotFound,
    RegistrationClosed,
    StageMismatch,
    TeacherDeparted,
    TeacherNotFound,
)
from enrollment.models import Project, Registration
from enrollment.registration import repository as repo
from enrollment.registration.schemas import (
    ProjectCreate,
    RegistrationCreate,
)
from enrollment.teachers import repository as teacher_repo
from yanxiu.contracts.enrollment import ProjectOpened, TeacherRegistered
from yanxiu.contracts.envelope import OrgPath
from yanxiu.kit.auth import Principal, Role
from yanxiu.kit.outbox import Outbox

SHANGHAI = ZoneInfo("Asia/Shanghai")


async def open_project(
    session: AsyncSession, outbox: Outbox, *, actor: Principal, data: ProjectCreate
) -> Project:
    """创建培训项目: the province opens a yearly project for one stage."""
    actor.ensure_role(Role.province_admin)
    if await repo.find_project(session, year=data.year, stage=data.stage):
        raise ProjectExists()
    project = Project(id=uuid.uuid4(), **data.model_dump())
    session.add(project)
    await session.flush()
    await outbox.add(
        session,
        ProjectOpened(
            project_id=project.id,
            year=project.year,
            stage=data.stage,
            name=project.name,
            registration_opens_on=project.registration_opens_on,
            registration_closes_on=project.registration_closes_on,
        ),
    )
    return project


async def register_teacher(
    session: AsyncSession,
    outbox: Outbox,
    *,
    actor: Principal,
    project_id: uuid.UUID,
    data: RegistrationCreate,
    now: datetime | None = None,
) -> Registration:
    """项目报名: the school admin registers one of its teachers for one subject."""
    actor.ensure_role(Role.school_admin)
    project = await repo.get_project(session, project_id)
    if project is None:
        raise ProjectNotFound()
    teacher = await teacher_repo.get_teacher(session, data.teacher_id)
    if teacher is None or not actor.covers(teacher.org_path):
        raise TeacherNotFound()
    today = (now or datetime.now(SHANGHAI)).astimezone(SHANGHAI).date()
    if not project.registration_opens_on <= today <= project.registration_closes_on:
        raise RegistrationClosed(
            f"报名时间为 {project.registration_opens_on} 至 {project.registration_closes_on}",
            f"Registration runs {project.registration_opens_on} to "
            f"{project.registration_closes_on}",
        )
    if teacher.status != "active":
        raise TeacherDeparted()
    if teacher.stage != project.stage:
        raise StageMismatch()
    if await repo.find_registration(session, project_id=project.id, teacher_id=teacher.id):
        raise AlreadyRegistered()
    reg = Registration(
        id=uuid.uuid4(),
        project_id=project.id,
        teacher_id=teacher.id,
        subject=data.subject,
        city_id=teacher.city_id,
        county_id=teacher.county_id,
        school_id=teacher.school_id,
        registered_by=actor.user_id,
        registered_at=now or datetime.now(SHANGHAI),
    )
    session.add(reg)
    await session.flush()
    await outbox.add(
        session,
        TeacherRegistered(
            registration_id=reg.id,
            project_id=project.id,
            project_year=project.year,
            teacher_id=teacher.id,
            teacher_name=teacher.name,
            stage=project.stage,
            subject=reg.subject,
            is_rural=teacher.is_rural,
            org=OrgPath(
                province_id=teacher.province_id,
                city_id=teacher.city_id,
                county_id=teacher.county_id,
                school_id=teacher.school_id,
            ),
            registered_at=reg.registered_at,
        ),
    )
    return reg
