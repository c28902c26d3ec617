"""培训项目与报名: yearly projects and the registration cascade — the city opens counties, the
county opens schools, the school registers teachers by subject, county then city submit. Use
cases; nothing commits here."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from enrollment import catalog
from enrollment.audit import AUDIT
from enrollment.errors import (
    AlreadyRegistered,
    CountiesNotAllSubmitted,
    CountyNotOpened,
    NotACountyOfYourCity,
    NotASchoolOfYourCounty,
    OrgNotFound,
    ProjectExists,
    ProjectNotFound,
    RegistrationClosed,
    RegistrationNotFound,
    SchoolNotOpened,
    StageMismatch,
    TeacherDeparted,
    TeacherNotFound,
    TeacherNotVerified,
    UnitAlreadySubmitted,
    UnitListLocked,
    UnknownSubject,
)
from enrollment.models import Org, Project, ProjectUnit, Registration, Teacher, UnitSubmission
from enrollment.registration import repository as repo
from enrollment.registration.errors import OWNER_LEVELS, ProjectOwnerLevel
from enrollment.registration.schemas import (
    ProjectCreate,
    RegistrationCreate,
    RegistrationListItem,
    SubmissionRead,
    UnitRead,
)
from enrollment.registration.scope import (
    SHANGHAI,
    ensure_window,
    in_reach,
    org_path,
    scoped_filters,
    str_after,
    today,
    uuid_after,
)
from enrollment.teachers import repository as teacher_repo
from yanxiu.contracts.enrollment import (
    ProjectOpened,
    TeacherRegistered,
    TeacherWithdrawn,
    UnitSubmitted,
)
from yanxiu.contracts.envelope import OrgPath
from yanxiu.kit.auth import ADMIN_LEVEL, Principal, Role
from yanxiu.kit.errors import Forbidden
from yanxiu.kit.outbox import Outbox
from yanxiu.kit.pagination import Page, encode_cursor
from yanxiu.kit.reads import Db


def teacher_org(teacher: Teacher) -> OrgPath:
    return OrgPath(
        province_id=teacher.province_id,
        city_id=teacher.city_id,
        county_id=teacher.county_id,
        school_id=teacher.school_id,
    )


async def _project(db: Db, project_id: uuid.UUID, actor: Principal) -> Project:
    """The project, if it is in the caller's reach (its owner's subtree, or above the owner);
    any other project is as absent as one that does not exist."""
    project = await repo.get_project(db, project_id)
    if project is None or not in_reach(actor, project):
        raise ProjectNotFound()
    return project


async def _owner(session: AsyncSession, *, actor: Principal, owner_org_id: str | None) -> Org:
    """项目归属: the org named to run a new project (default: the caller's own province or
    city); a province or a city inside the caller's subtree."""
    org = await repo.get_org(session, owner_org_id or actor.org_path[-1])
    path = org_path(org) if org is not None else []
    if org is None or not (actor.covers(path) or tuple(path) == actor.org_path[: len(path)]):
        raise OrgNotFound()  # neither in the caller's subtree nor on its path above
    if org.level not in OWNER_LEVELS:
        raise ProjectOwnerLevel()
    actor.ensure_covers(path)  # a city admin cannot open its province's project
    return org


async def _ensure_open_list(session: AsyncSession, *, project_id: uuid.UUID, unit: str) -> None:
    """Hold the unit's list open (shared lock) and refuse when it is submitted already."""
    await repo.lock_unit(session, project_id=project_id, org_id=unit, shared=True)
    if await repo.get_submission(session, project_id=project_id, org_id=unit):
        raise UnitListLocked(
            f"{unit} 的报名名单已提交，不能再更改", f"The list of {unit} is submitted and locked"
        )


async def open_project(
    session: AsyncSession, outbox: Outbox, *, actor: Principal, data: ProjectCreate
) -> Project:
    """创建培训项目: the province opens a yearly project for one stage, for itself or for one
    of its cities; a city opens its own programme (a city-run project such as Zhaoqing's or
    Hefei's). The project names the rule set it runs under."""
    actor.ensure_role(Role.province_admin, Role.city_admin)
    owner = await _owner(session, actor=actor, owner_org_id=data.owner_org_id)
    if await repo.find_project(session, owner_org_id=owner.id, year=data.year, stage=data.stage):
        raise ProjectExists()
    project = Project(
        id=uuid.uuid4(),
        **data.model_dump(exclude={"owner_org_id"}),
        owner_org_id=owner.id,
        province_id=owner.province_id,
        city_id=owner.city_id,
    )
    session.add(project)
    await session.flush()
    await AUDIT.record(
        session,
        actor=actor,
        action="project.open",
        target_type="project",
        target_id=str(project.id),
        target_org=project.owner_path,
        after={**data.model_dump(), "owner_org_id": owner.id},
    )
    await outbox.add(
        session,
        ProjectOpened(
            project_id=project.id,
            year=project.year,
            stage=data.stage,
            name=project.name,
            registration_opens_on=project.registration_opens_on,
            registration_closes_on=project.registration_closes_on,
            owner_org_id=owner.id,
            owner_org_path=project.owner_path,
            rule_set=project.rule_set,
        ),
    )
    return project


async def list_projects(db: Db, *, actor: Principal, limit: int) -> list[Project]:
    """培训项目: the projects in the caller's reach — its province's, and its city's own."""
    path = actor.org_path
    if not path:
        return []
    return await repo.list_projects(
        db, province_id=path[0], city_id=path[1] if len(path) > 1 else None, limit=limit
    )


async def open_counties(
    session: AsyncSession,
    *,
    actor: Principal,
    project_id: uuid.UUID,
    org_ids: list[str],
    now: datetime | None = None,
) -> list[ProjectUnit]:
    """开放参训区域: the city admin opens counties of its city, in the counties window."""
    actor.ensure_role(Role.city_admin)
    project = await _project(session, project_id, actor)
    ensure_window(
        "开放参训区域",
        "Opening counties",
        project.counties_open_from,
        project.counties_open_until,
        today(now),
    )
    city_id = actor.org_path[1]
    refused = NotACountyOfYourCity
    return await _open_units(
        session,
        actor=actor,
        project=project,
        org_ids=org_ids,
        level="county",
        unit=city_id,
        city_id=city_id,
        county_id=None,
        refuse=lambda oid: refused(
            f"{oid} 不是本市的县（市、区）", f"{oid} is not a county of your city"
        ),
    )


async def open_schools(
    session: AsyncSession,
    *,
    actor: Principal,
    project_id: uuid.UUID,
    org_ids: list[str],
    now: datetime | None = None,
) -> list[ProjectUnit]:
    """开放参训单位: the county admin opens schools of its county, once its city opened it."""
    actor.ensure_role(Role.county_admin)
    project = await _project(session, project_id, actor)
    ensure_window(
        "开放参训单位",
        "Opening schools",
        project.schools_open_from,
        project.schools_open_until,
        today(now),
    )
    city_id, county_id = actor.org_path[1], actor.org_path[2]
    if await repo.get_unit(session, project_id=project.id, org_id=county_id) is None:
        raise CountyNotOpened()
    refused = NotASchoolOfYourCounty
    return await _open_units(
        session,
        actor=actor,
        project=project,
        org_ids=org_ids,
        level="school",
        unit=county_id,
        city_id=city_id,
        county_id=county_id,
        refuse=lambda oid: refused(
            f"{oid} 不是本县（市、区）的学校", f"{oid} is not a school of your county"
        ),
    )


async def _open_units(
    session: AsyncSession,
    *,
    actor: Principal,
    project: Project,
    org_ids: list[str],
    level: str,
    unit: str,
    city_id: str,
    county_id: str | None,
    refuse: Callable[[str], Exception],
) -> list[ProjectUnit]:
    """Open counties or schools under the caller's own unit, while its list is not submitted."""
    rows: list[dict[str, object]] = []
    for org_id in dict.fromkeys(org_ids):
        org = await repo.get_org(session, org_id)
        if org is None or org.level != level or not actor.covers(org_path(org)):
            raise refuse(org_id)
        rows.append(
            {
                "project_id": project.id,
                "org_id": org.id,
                "level": level,
                "city_id": city_id,
                "county_id": county_id or org.id,
                "opened_by": actor.user_id,
            }
        )
    await _ensure_open_list(session, project_id=project.id, unit=unit)
    await repo.add_units(session, rows)
    await AUDIT.record(
        session,
        actor=actor,
        action="project.open_counties" if level == "county" else "project.open_schools",
        target_type="project",
        target_id=str(project.id),
        target_org=actor.org_path,
        after={"org_ids": [r["org_id"] for r in rows]},
    )
    units = [
        await repo.get_unit(session, project_id=project.id, org_id=str(r["org_id"])) for r in rows
    ]
    return [u for u in units if u]


async def list_units(
    session: AsyncSession,
    *,
    actor: Principal,
    project_id: uuid.UUID,
    level: str,
    city_id: str | None,
    county_id: str | None,
    cursor: str | None,
    limit: int,
) -> Page[UnitRead]:
    """Opened counties or schools of a project, inside the caller's subtree."""
    project = await _project(session, project_id, actor)
    f = await scoped_filters(
        session, actor=actor, requested={"city_id": city_id, "county_id": county_id}
    )
    rows = await repo.page_units(
        session,
        project_id=project.id,
        level=level,
        city_id=f["city_id"],
        county_id=f["county_id"],
        org_id=f["school_id"] if level == "school" else None,
        after=str_after(cursor),
        limit=limit,
    )
    nxt = encode_cursor(rows[limit - 1].org_id) if len(rows) > limit else None
    return Page[UnitRead](items=[UnitRead.model_validate(r) for r in rows[:limit]], next_cursor=nxt)


async def register_teacher(
    session: AsyncSession,
    outbox: Outbox,
    *,
    actor: Principal,
    project_id: uuid.UUID,
    data: RegistrationCreate,
    now: datetime | None = None,
) -> Registration:
    """项目报名: the school admin registers one of its verified teachers for one subject of the
    stage's catalogue, once its county opened the school and before the county submits."""
    actor.ensure_role(Role.school_admin)
    project = await _project(session, project_id, actor)
    teacher = await teacher_repo.get_teacher(session, data.teacher_id)
    if teacher is None or not actor.covers(teacher.org_path):
        raise TeacherNotFound()
    ensure_window(
        "报名",
        "Registration",
        project.registration_opens_on,
        project.registration_closes_on,
        today(now),
        RegistrationClosed,
    )
    if teacher.status != "active":
        raise TeacherDeparted()
    if teacher.stage != project.stage:
        raise StageMismatch()
    if not catalog.is_subject_of(project.stage, data.subject):
        raise UnknownSubject(
            f"“{data.subject}”不在{catalog.stages().get(project.stage, project.stage)}学科目录中",
            f"{data.subject!r} is not a subject of stage {project.stage}",
        )
    if not teacher.verified:
        raise TeacherNotVerified()
    if await repo.get_unit(session, project_id=project.id, org_id=teacher.school_id) is None:
        raise SchoolNotOpened()
    await _ensure_open_list(session, project_id=project.id, unit=teacher.county_id)
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
    await AUDIT.record(
        session,
        actor=actor,
        action="registration.register",
        target_type="registration",
        target_id=str(reg.id),
        target_org=teacher.org_path,
        after={"project_id": project.id, "teacher_id": teacher.id, "subject": reg.subject},
    )
    await outbox.add(session, registered(reg, teacher=teacher, project=project))
    return reg


def registered(reg: Registration, *, teacher: Teacher, project: Project) -> TeacherRegistered:
    """The fact of a registration, as first told and as re-sent by a resync."""
    return TeacherRegistered(
        registration_id=reg.id,
        project_id=project.id,
        project_year=project.year,
        teacher_id=teacher.id,
        teacher_name=teacher.name,
        stage=project.stage,
        subject=reg.subject,
        is_rural=teacher.is_rural,
        org=teacher_org(teacher),
        registered_at=reg.registered_at,
        project_owner_org_id=project.owner_org_id,
        rule_set=project.rule_set,
    )


async def withdraw(
    session: AsyncSession,
    outbox: Outbox,
    *,
    actor: Principal,
    project_id: uuid.UUID,
    registration_id: uuid.UUID,
    now: datetime | None = None,
) -> None:
    """撤销报名: the school (or county) admin withdraws a registration until the county submits."""
    actor.ensure_role(Role.school_admin, Role.county_admin)
    reg = await repo.get_registration(
        session, project_id=project_id, registration_id=registration_id
    )
    teacher = await teacher_repo.get_teacher(session, reg.teacher_id) if reg else None
    path = (
        [teacher.province_id, reg.city_id, reg.county_id, reg.school_id] if reg and teacher else []
    )
    if reg is None or teacher is None or not actor.covers(path):
        raise RegistrationNotFound()
    await _ensure_open_list(session, project_id=project_id, unit=reg.county_id)
    await repo.delete_registration(session, reg.id)
    await AUDIT.record(
        session,
        actor=actor,
        action="registration.withdraw",
        target_type="registration",
        target_id=str(reg.id),
        target_org=path,
        before={"project_id": project_id, "teacher_id": reg.teacher_id, "subject": reg.subject},
    )
    await outbox.add(
        session,
        TeacherWithdrawn(
            registration_id=reg.id,
            project_id=project_id,
            teacher_id=reg.teacher_id,
            org=OrgPath(
                province_id=teacher.province_id,
                city_id=reg.city_id,
                county_id=reg.county_id,
                school_id=reg.school_id,
            ),
            withdrawn_at=now or datetime.now(SHANGHAI),
        ),
    )


async def list_registrations(
    db: Db,
    *,
    actor: Principal,
    project_id: uuid.UUID,
    city_id: str | None,
    county_id: str | None,
    school_id: str | None,
    subject: str | None,
    cursor: str | None,
    limit: int,
) -> Page[RegistrationListItem]:
    """报名名单: one keyset page of a project's registrations inside the caller's subtree."""
    project = await _project(db, project_id, actor)
    f = await scoped_filters(
        db,
        actor=actor,
        requested={"city_id": city_id, "county_id": county_id, "school_id": school_id},
    )
    rows = await repo.page_registrations(
        db,
        project_id=project.id,
        city_id=f["city_id"],
        county_id=f["county_id"],
        school_id=f["school_id"],
        subject=subject,
        after=uuid_after(cursor),
        limit=limit,
    )
    items = [
        RegistrationListItem.model_validate({**_reg_dict(r), "teacher_name": name})
        for r, name in rows[:limit]
    ]
    nxt = encode_cursor(str(rows[limit - 1][0].id)) if len(rows) > limit else None
    return Page[RegistrationListItem](items=items, next_cursor=nxt)


def _reg_dict(r: Registration) -> dict[str, object]:
    return {
        "id": r.id,
        "project_id": r.project_id,
        "teacher_id": r.teacher_id,
        "subject": r.subject,
        "city_id": r.city_id,
        "county_id": r.county_id,
        "school_id": r.school_id,
        "registered_at": r.registered_at,
    }


async def submit(
    session: AsyncSession,
    outbox: Outbox,
    *,
    actor: Principal,
    project_id: uuid.UUID,
    now: datetime | None = None,
) -> UnitSubmission:
    """提交培训报名管理任务: a county admin submits its county's list; a city admin submits its
    city once every county it opened has submitted. The unit's list is locked from then on."""
    actor.ensure_role(Role.county_admin, Role.city_admin)
    project = await _project(session, project_id, actor)
    ensure_window(
        "提交培训报名管理任务",
        "Submission",
        project.submission_opens_on,
        project.submission_closes_on,
        today(now),
    )
    level = "county" if actor.role == Role.county_admin else "city"
    city_id = actor.org_path[1]
    unit = actor.org_path[2] if level == "county" else city_id
    if level == "county":
        if await repo.get_unit(session, project_id=project.id, org_id=unit) is None:
            raise CountyNotOpened()
        # The city's own check waits for county submissions in flight, and vice versa.
        await repo.lock_unit(session, project_id=project.id, org_id=city_id, shared=True)
    await repo.lock_unit(session, project_id=project.id, org_id=unit)
    if await repo.get_submission(session, project_id=project.id, org_id=unit):
        raise UnitAlreadySubmitted()
    if level == "county" and await repo.get_submission(
        session, project_id=project.id, org_id=city_id
    ):
        raise UnitListLocked()
    if level == "city":
        pending = await repo.unsubmitted_counties(session, project_id=project.id, city_id=city_id)
        if pending:
            raise CountiesNotAllSubmitted(
                f"尚未提交的县（市、区）：{'、'.join(pending)}",
                f"Counties not submitted yet: {', '.join(pending)}",
                pending=pending,
            )
    submission = UnitSubmission(
        project_id=project.id,
        org_id=unit,
        level=level,
        city_id=city_id,
        submitted_by=actor.user_id,
        submitted_at=now or datetime.now(SHANGHAI),
    )
    await repo.add_submission(session, submission)
    await AUDIT.record(
        session,
        actor=actor,
        action="project.submit",
        target_type="project",
        target_id=str(project.id),
        target_org=actor.org_path,
        after={"level": level, "org_id": unit},
    )
    await outbox.add(
        session,
        UnitSubmitted(
            project_id=project.id,
            level=level,
            org_id=unit,
            city_id=city_id,
            submitted_by=actor.user_id,
            submitted_at=submission.submitted_at,
        ),
    )
    return submission


async def list_submissions(
    session: AsyncSession,
    *,
    actor: Principal,
    project_id: uuid.UUID,
    cursor: str | None,
    limit: int,
) -> Page[SubmissionRead]:
    """Submitted counties and cities: the province sees all, a city its own, a county its own."""
    if actor.role not in ADMIN_LEVEL:
        raise Forbidden()
    project = await _project(session, project_id, actor)
    path = actor.org_path
    rows = await repo.page_submissions(
        session,
        project_id=project.id,
        city_id=path[1] if len(path) > 1 else None,
        org_id=path[2] if len(path) > 2 else None,
        after=str_after(cursor),
        limit=limit,
    )
    nxt = encode_cursor(rows[limit - 1].org_id) if len(rows) > limit else None
    return Page[SubmissionRead](
        items=[SubmissionRead.model_validate(r) for r in rows[:limit]], next_cursor=nxt
    )
