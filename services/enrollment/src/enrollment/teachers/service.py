"""教师信息: teacher records, their personal data, history and transfers.
Use cases; nothing commits here."""

from __future__ import annotations

import uuid

from sqlalchemy.ext.asyncio import AsyncSession

from enrollment import catalog, idcard
from enrollment.errors import (
    DuplicateIdNumber,
    InvalidIdNumber,
    NotASchool,
    OrgNotFound,
    TeacherNotFound,
    UnknownSubject,
)
from enrollment.models import Teacher
from enrollment.orgs import repository as org_repo
from enrollment.orgs.service import org_path
from enrollment.teachers import repository as repo
from enrollment.teachers.schemas import TeacherCreate, TeacherRead
from yanxiu.kit.auth import Principal, Role
from yanxiu.kit.pii import PiiCipher, mask_id_number, mask_phone

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
    school = await org_repo.get_org(session, data.school_id)
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
    session.add(teacher)
    await session.flush()
    return teacher


async def get_teacher(session: AsyncSession, *, actor: Principal, teacher_id: uuid.UUID) -> Teacher:
    teacher = await repo.get_teacher(session, teacher_id)
    if teacher is None or not (
        actor.covers(teacher.org_path) or actor.teacher_id == str(teacher.id)
    ):
        raise TeacherNotFound()
    return teacher
