"""教师信息 read side: the scoped, masked, keyset-paginated lists, the departed pool lookup, one
record and its change history. Nothing here changes data: it reads on the driver (kit.reads)."""

from __future__ import annotations

import uuid

from enrollment.errors import OrgNotFound
from enrollment.orgs import repository as org_repo
from enrollment.orgs.service import org_path, visible
from enrollment.teachers import repository as repo
from enrollment.teachers.history import ID_CONTEXT
from enrollment.teachers.repository import TeacherFilter
from enrollment.teachers.schemas import TeacherChangeRead, TeacherRead
from enrollment.teachers.service import ADMINS, get_teacher, parse_id_number, read_teacher
from yanxiu.kit.auth import Principal
from yanxiu.kit.pagination import Page, decode_int_cursor, decode_uuid_cursor, next_cursor
from yanxiu.kit.pii import PiiCipher
from yanxiu.kit.reads import Reader


async def _org_filter(db: Reader, actor: Principal, org_id: str | None, level: str) -> str | None:
    if org_id is None:
        return None
    org = await org_repo.get_org(db, org_id)
    if org is None or org.level != level or not visible(actor, org):
        raise OrgNotFound()
    actor.ensure_covers(org_path(org))
    return org_id


async def list_teachers(
    db: Reader,
    pii: PiiCipher,
    *,
    actor: Principal,
    school_id: str | None = None,
    county_id: str | None = None,
    city_id: str | None = None,
    status: str | None = None,
    stage: str | None = None,
    subject: str | None = None,
    verified: bool | None = None,
    name_prefix: str | None = None,
    id_number: str | None = None,
    cursor: str | None = None,
    limit: int = 100,
) -> Page[TeacherRead]:
    """教师列表: records under the caller's subtree, masked, filtered and keyset-paginated."""
    actor.ensure_role(*ADMINS)
    after_id = decode_uuid_cursor(cursor)
    index = (
        pii.blind_index(parse_id_number(id_number).value, context=ID_CONTEXT) if id_number else None
    )
    where = TeacherFilter(
        scope=actor.org_path,
        school_id=await _org_filter(db, actor, school_id, "school"),
        county_id=await _org_filter(db, actor, county_id, "county"),
        city_id=await _org_filter(db, actor, city_id, "city"),
        status=status,
        stage=stage,
        subject=subject,
        verified=verified,
        name_prefix=name_prefix.strip() if name_prefix else None,
        id_number_index=index,
    )
    rows = await repo.list_teachers(db, where=where, after=after_id, limit=limit + 1)
    return Page[TeacherRead](
        items=[read_teacher(t, pii) for t in rows[:limit]],
        next_cursor=next_cursor([str(t.id) for t in rows], limit),
    )


async def find_departed(
    db: Reader, pii: PiiCipher, *, actor: Principal, id_number: str
) -> Page[TeacherRead]:
    """离职教师库: any admin finds a departed teacher of the province by exact ID number (to take
    them in); there is no browsing the pool."""
    actor.ensure_role(*ADMINS)
    index = pii.blind_index(parse_id_number(id_number).value, context=ID_CONTEXT)
    where = TeacherFilter(scope=actor.org_path[:1], status="departed", id_number_index=index)
    rows = await repo.list_teachers(db, where=where, after=None, limit=1)
    return Page[TeacherRead](items=[read_teacher(t, pii) for t in rows])


async def teacher_history(
    db: Reader,
    *,
    actor: Principal,
    teacher_id: uuid.UUID,
    cursor: str | None,
    limit: int,
) -> Page[TeacherChangeRead]:
    """变更记录: who changed the record, when, before and after (personal data masked). Read by
    whoever reads the record: the teacher themself and the admins covering its school."""
    await get_teacher(db, actor=actor, teacher_id=teacher_id)
    rows = await repo.history(
        db, teacher_id=teacher_id, after=decode_int_cursor(cursor), limit=limit + 1
    )
    return Page[TeacherChangeRead](
        items=[TeacherChangeRead.model_validate(c) for c in rows[:limit]],
        next_cursor=next_cursor([c.id for c in rows], limit),
    )


async def show_teacher(
    db: Reader, pii: PiiCipher, *, actor: Principal, teacher_id: uuid.UUID
) -> TeacherRead:
    """One record, masked, if the caller may read it; 404 otherwise (nothing says it exists).
    Revealing the full ID number records who looked: `service.show_teacher`."""
    return read_teacher(await get_teacher(db, actor=actor, teacher_id=teacher_id), pii)
