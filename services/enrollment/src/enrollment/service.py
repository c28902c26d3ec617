"""Enrollment use cases. No FastAPI here, and nothing commits: the boundary does."""

from __future__ import annotations

import uuid
from datetime import datetime
from zoneinfo import ZoneInfo

from sqlalchemy.ext.asyncio import AsyncSession

from enrollment import catalog, idcard
from enrollment import repository as repo
from enrollment.errors import (
    AlreadyRegistered,
    DuplicateIdNumber,
    InvalidIdNumber,
    NotASchool,
    OrgNotFound,
    ProjectExists,
    ProjectNotFound,
    RegistrationClosed,
    StageMismatch,
    TeacherDeparted,
    TeacherNotFound,
    UnknownSubject,
)
from enrollment.models import Org, Project, Registration, Teacher
from enrollment.schemas import ProjectCreate, RegistrationCreate, TeacherCreate, TeacherRead
from yanxiu.contracts.enrollment import ProjectOpened, TeacherRegistered
from yanxiu.contracts.envelope import OrgPath
from yanxiu.kit.auth import Principal, Role
from yanxiu.kit.outbox import Outbox
from yanxiu.kit.pii import PiiCipher, mask_id_number, mask_phone

SHANGHAI = ZoneInfo("Asia/Shanghai")


def org_path(org: Org) -> list[str]:
    return [p for p in (org.province_id, org.city_id, org.county_id, org.id) if p is not None][
        : {"province": 1, "city": 2, "county": 3, "school": 4}[org.level]
    ]


async def list_orgs(
    session: AsyncSession, *, actor: Principal, parent_id: str | None, limit: int
) -> list[Org]:
    """Children of an org that the caller may see: its subtree and the path above it."""
    rows = await repo.list_orgs(session, parent_id=parent_id, limit=limit)
    return [
        o
        for o in rows
        if actor.covers(org_path(o)) or tuple(org_path(o)) == actor.org_path[: len(org_path(o))]
    ]


ID_CONTEXT = "teacher.id_number"
PHONE_CONTEXT = "teacher.phone"


def read_teacher(teacher: Teacher, pii: PiiCipher) -> TeacherRead:
    """The response form of a record: ID number and phone masked."""
    phone = (
        pii.decrypt(teacher.phone_cipher, context=PHONE_CONTEXT) if teacher.phone_cipher else None
    )
    return TeacherRead(
        id=teacher.id,
        name=teacher.name,
        id_number=mask_id_number(pii.decrypt(teacher.id_number_cipher, context=ID_CONTEXT)),
        gender=teacher.gender,
        birth_date=teacher.birth_date,
        phone=mask_phone(phone) if phone else None,
        stage=teacher.stage,
        subject=teacher.subject,
        is_rural=teacher.is_rural,
        status=teacher.status,
        verified=teacher.verified,
        school_id=teacher.school_id,
        county_id=teacher.county_id,
        city_id=teacher.city_id,
    )


async def create_teacher(
    session: AsyncSession, pii: PiiCipher, *, actor: Principal, data: TeacherCreate
) -> Teacher:
    """教师信息采集: an admin adds a teacher to a school in its scope."""
    actor.ensure_role(Role.school_admin, Role.county_admin, Role.city_admin, Role.province_admin)
    school = await repo.get_org(session, data.school_id)
    if school is None:
        raise OrgNotFound()
    if school.level != "school":
        raise NotASchool()
    actor.ensure_covers(org_path(school))
    if not catalog.is_subject_of(data.stage, data.subject):
        raise UnknownSubject(
            f"{catalog.stages()[data.stage]}学段没有“{data.subject}”学科",
            f"No subject {data.subject!r} in stage {data.stage}",
        )
    try:
        idn = idcard.parse(data.id_number)
    except idcard.InvalidIdNumber as exc:
        raise InvalidIdNumber(exc.zh, exc.en) from exc
    index = pii.blind_index(idn.value, context=ID_CONTEXT)
    if await repo.teacher_by_id_index(session, index):
        raise DuplicateIdNumber()
    assert school.city_id and school.county_id
    teacher = Teacher(
        id=uuid.uuid4(),
        name=data.name.strip(),
        id_number_cipher=pii.encrypt(idn.value, context=ID_CONTEXT),
        id_number_index=index,
        gender=idn.gender,
        birth_date=idn.birth_date,
        phone_cipher=pii.encrypt(data.phone, context=PHONE_CONTEXT) if data.phone else None,
        phone_index=pii.blind_index(data.phone, context=PHONE_CONTEXT) if data.phone else None,
        stage=data.stage,
        subject=data.subject,
        is_rural=data.is_rural,
        status="active",
        verified=False,
        province_id=school.province_id,
        city_id=school.city_id,
        county_id=school.county_id,
        school_id=school.id,
    )
    repo.add(session, teacher)
    await session.flush()
    return teacher


async def get_teacher(session: AsyncSession, *, actor: Principal, teacher_id: uuid.UUID) -> Teacher:
    teacher = await repo.get_teacher(session, teacher_id)
    if teacher is None or not (
        actor.covers(teacher.org_path) or actor.teacher_id == str(teacher.id)
    ):
        raise TeacherNotFound()
    return teacher


async def open_project(
    session: AsyncSession, outbox: Outbox, *, actor: Principal, data: ProjectCreate
) -> Project:
    """创建培训项目: the province opens a yearly project for one stage."""
    actor.ensure_role(Role.province_admin)
    if await repo.find_project(session, year=data.year, stage=data.stage):
        raise ProjectExists()
    project = Project(id=uuid.uuid4(), **data.model_dump())
    repo.add(session, project)
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
    teacher = await repo.get_teacher(session, data.teacher_id)
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
    repo.add(session, reg)
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
