"""教师信息: teacher records, their personal data, history and transfers.
Use cases; nothing commits here.

Who sees the full 身份证号: the admins who collect and verify the record, i.e. the admin of the
teacher's own school and the admin of its county, on request (`reveal=id_number`); each reveal
is written to the record's history. Everyone else, the city and province included, sees it
masked; they find a teacher by ID number through the blind index without seeing it."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import NoReturn

from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from enrollment import catalog, idcard
from enrollment.errors import (
    DuplicateIdNumber,
    InvalidIdNumber,
    NotASchool,
    NothingToChange,
    OrgNotFound,
    RevealNotAllowed,
    TeacherNotFound,
    UnknownSubject,
)
from enrollment.models import Teacher
from enrollment.orgs import repository as org_repo
from enrollment.orgs.service import org_path, visible
from enrollment.teachers import history
from enrollment.teachers import repository as repo
from enrollment.teachers.history import ENROLLMENT_OUTBOX
from enrollment.teachers.history import ID_CONTEXT as ID_CONTEXT  # re-exported for imports
from enrollment.teachers.history import PHONE_CONTEXT as PHONE_CONTEXT
from enrollment.teachers.schemas import (
    TeacherCreate,
    TeacherRead,
    TeacherUpdate,
)
from yanxiu.kit.auth import Principal, Role
from yanxiu.kit.outbox import Outbox
from yanxiu.kit.pii import PiiCipher, mask_id_number, mask_phone
from yanxiu.kit.reads import Db
from yanxiu.kit.scope import may_read_teacher_record
from yanxiu.kit.writes import SessionReads

ADMINS = (Role.school_admin, Role.county_admin, Role.city_admin, Role.province_admin)
REVEALERS = (Role.school_admin, Role.county_admin)
# Changing who the teacher is undoes an earlier 核实 (verification).
_IDENTITY_FIELDS = {"name", "id_number"}


def may_reveal(actor: Principal, teacher: Teacher) -> bool:
    return actor.role in REVEALERS and actor.covers(teacher.org_path)


def read_teacher(teacher: Teacher, pii: PiiCipher, *, reveal: bool = False) -> TeacherRead:
    """The response form of a record: ID number (unless revealed) and phone masked."""
    phone = (
        pii.decrypt(teacher.phone_cipher, context=PHONE_CONTEXT) if teacher.phone_cipher else None
    )
    id_number = pii.decrypt(teacher.id_number_cipher, context=ID_CONTEXT)
    return TeacherRead(
        id=teacher.id,
        name=teacher.name,
        id_number=id_number if reveal else mask_id_number(id_number),
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


def fingerprint_view(data: TeacherCreate, pii: PiiCipher) -> dict[str, object]:
    """What an Idempotency-Key fingerprint is computed over: personal data only as keyed
    hashes, since a plain hash of an ID number could be reversed by trying them all."""
    return data.model_dump(exclude={"id_number", "phone"}) | {
        "id_number": pii.blind_index(data.id_number, context="idempotency.id_number"),
        "phone": pii.blind_index(data.phone, context="idempotency.phone") if data.phone else None,
    }


def parse_id_number(raw: str) -> idcard.IdNumber:
    try:
        return idcard.parse(raw)
    except idcard.InvalidIdNumber as exc:
        raise InvalidIdNumber(exc.zh, exc.en) from exc


def _check_subject(stage: str, subject: str) -> None:
    if not catalog.is_subject_of(stage, subject):
        raise UnknownSubject(
            f"{catalog.stages()[stage]}学段没有“{subject}”学科",
            f"No subject {subject!r} in stage {stage}",
        )


def _refuse_twin(exc: IntegrityError) -> NoReturn:
    """A twin of an ID number, concurrent or not, loses on the unique blind index."""
    if "id_number_index" in str(exc.orig):
        raise DuplicateIdNumber() from exc
    raise exc


async def _flush_unique(session: AsyncSession) -> None:
    """Flush a changed record; another record's ID number is refused (`_refuse_twin`)."""
    try:
        await session.flush()
    except IntegrityError as exc:
        _refuse_twin(exc)


async def create_teacher(
    session: AsyncSession,
    pii: PiiCipher,
    *,
    actor: Principal,
    data: TeacherCreate,
    outbox: Outbox = ENROLLMENT_OUTBOX,
) -> Teacher:
    """教师信息采集: an admin adds a teacher to a school in its scope."""
    actor.ensure_role(*ADMINS)
    # The school is only checked and copied from: read on the write's own connection.
    school = await org_repo.get_org(SessionReads(session), data.school_id)
    if school is None or not visible(actor, school):
        raise OrgNotFound()
    if school.level != "school":
        raise NotASchool()
    actor.ensure_covers(org_path(school))
    _check_subject(data.stage, data.subject)
    idn = parse_id_number(data.id_number)
    # A twin of the ID number is refused by the unique blind index at the flush below: one
    # statement, and no window between a look-up and the insert.
    index = pii.blind_index(idn.value, context=ID_CONTEXT)
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
        version=1,
        province_id=school.province_id,
        city_id=school.city_id,
        county_id=school.county_id,
        school_id=school.id,
    )
    try:
        await repo.add_teacher(session, teacher)
    except IntegrityError as exc:
        _refuse_twin(exc)
    await history.record(
        session,
        teacher,
        actor=actor,
        action="create",
        before=None,
        after=history.snapshot(teacher, pii),
    )
    await outbox.add(session, history.created(teacher))
    return teacher


def may_read(actor: Principal, teacher: Teacher) -> bool:
    """Who reads a teacher's record (and its history): the teacher themself, and the admins
    whose subtree holds the record's school. A colleague's token carries the same school, and
    workshop hosts, experts, institutions and providers carry org paths too: none of them reads
    teacher records (they learn what they need from their own services)."""
    return may_read_teacher_record(actor, teacher_id=teacher.id, org_path=teacher.org_path)


async def get_teacher(db: Db, *, actor: Principal, teacher_id: uuid.UUID) -> Teacher:
    """The record, if the caller may read it; 404 otherwise (nothing says it exists)."""
    teacher = await repo.get_teacher(db, teacher_id)
    if teacher is None or not may_read(actor, teacher):
        raise TeacherNotFound()
    return teacher


async def show_teacher(
    session: AsyncSession,
    pii: PiiCipher,
    *,
    actor: Principal,
    teacher_id: uuid.UUID,
    reveal_id_number: bool,
) -> TeacherRead:
    """One record; with `reveal_id_number` the full ID number, for the admins allowed to see
    it, and the reveal is written to the history."""
    teacher = await get_teacher(session, actor=actor, teacher_id=teacher_id)
    if reveal_id_number:
        if not may_reveal(actor, teacher):
            raise RevealNotAllowed()
        await history.record(
            session,
            teacher,
            actor=actor,
            action="reveal_id_number",
            before=None,
            after={"field": "id_number"},
        )
        await session.flush()
    return read_teacher(teacher, pii, reveal=reveal_id_number)


async def admin_teacher(
    session: AsyncSession, *, actor: Principal, teacher_id: uuid.UUID
) -> Teacher:
    """The record locked for a change by an admin covering it; 404 for anyone else."""
    actor.ensure_role(*ADMINS)
    teacher = await repo.lock_teacher(session, teacher_id)
    if teacher is None or not actor.covers(teacher.org_path):
        raise TeacherNotFound()
    return teacher


async def update_teacher(
    session: AsyncSession,
    pii: PiiCipher,
    *,
    actor: Principal,
    teacher_id: uuid.UUID,
    data: TeacherUpdate,
    outbox: Outbox = ENROLLMENT_OUTBOX,
) -> Teacher:
    """修正/补充: an admin covering the teacher corrects or supplements fields."""
    if not data.model_fields_set:
        raise NothingToChange()
    teacher = await admin_teacher(session, actor=actor, teacher_id=teacher_id)
    before = history.snapshot(teacher, pii)
    changed: list[str] = []
    if data.name is not None and data.name.strip() != teacher.name:
        teacher.name = data.name.strip()
        changed.append("name")
    if data.id_number is not None:
        idn = parse_id_number(data.id_number)
        index = pii.blind_index(idn.value, context=ID_CONTEXT)
        if index != teacher.id_number_index:
            if await repo.teacher_by_id_index(session, index):
                raise DuplicateIdNumber()
            teacher.id_number_cipher = pii.encrypt(idn.value, context=ID_CONTEXT)
            teacher.id_number_index = index
            changed.append("id_number")
            if (idn.gender, idn.birth_date) != (teacher.gender, teacher.birth_date):
                teacher.gender, teacher.birth_date = idn.gender, idn.birth_date
                changed.append("gender")
    stage = data.stage or teacher.stage
    subject = data.subject or teacher.subject
    if (stage, subject) != (teacher.stage, teacher.subject):
        _check_subject(stage, subject)
        changed += [
            f
            for f, old, new in (
                ("stage", teacher.stage, stage),
                ("subject", teacher.subject, subject),
            )
            if old != new
        ]
        teacher.stage, teacher.subject = stage, subject
    if data.is_rural is not None and data.is_rural != teacher.is_rural:
        teacher.is_rural = data.is_rural
        changed.append("is_rural")
    if "phone" in data.model_fields_set:
        phone_index = pii.blind_index(data.phone, context=PHONE_CONTEXT) if data.phone else None
        if phone_index != teacher.phone_index:
            teacher.phone_index = phone_index
            teacher.phone_cipher = (
                pii.encrypt(data.phone, context=PHONE_CONTEXT) if data.phone else None
            )
            changed.append("phone")
    if not changed:
        return teacher
    if teacher.verified and _IDENTITY_FIELDS & set(changed):
        teacher.verified, teacher.verified_at, teacher.verified_by = False, None, None
        changed.append("verified")
    teacher.version += 1
    await _flush_unique(session)
    after = history.snapshot(teacher, pii)
    await history.record(
        session,
        teacher,
        actor=actor,
        action="update",
        before={k: before[k] for k in changed if k in before},
        after={k: after[k] for k in changed if k in after},
    )
    await outbox.add(session, history.updated(teacher, changed))
    return teacher


async def verify_teacher(
    session: AsyncSession,
    pii: PiiCipher,
    *,
    actor: Principal,
    teacher_id: uuid.UUID,
    outbox: Outbox = ENROLLMENT_OUTBOX,
) -> Teacher:
    """核实: an admin covering the teacher confirms the record is true and complete."""
    teacher = await admin_teacher(session, actor=actor, teacher_id=teacher_id)
    was = teacher.verified
    teacher.verified = True
    teacher.verified_at = datetime.now(UTC)
    teacher.verified_by = actor.user_id
    teacher.version += 1
    await session.flush()
    await history.record(
        session,
        teacher,
        actor=actor,
        action="verify",
        before={"verified": was},
        after={"verified": True},
    )
    await outbox.add(session, history.updated(teacher, ["verified"]))
    return teacher
