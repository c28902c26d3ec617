"""调动与离职: transfers between schools and departures, as Annex 1 of the 2020 notice says.

A teacher in the departed pool (离职教师库) is taken in by any school admin straight into its own
school (or by any admin into a school of its subtree). Any other move is done by the admin of the
level that covers both schools: cross-school within a county by the county admin, cross-county
within a city by the city admin, cross-city by the province admin. A departure sets 离职 and
never deletes. Use cases; nothing commits here.

Scope: an active teacher is found only by an admin covering their school (404 for anyone
else, whatever the target); that admin, when the target lies outside its subtree, is told
which level must move the teacher (403 `transfer_not_allowed` with `required_role`)."""

from __future__ import annotations

import uuid

from sqlalchemy.ext.asyncio import AsyncSession

from enrollment.errors import (
    AlreadyDeparted,
    NotASchool,
    OrgNotFound,
    SameSchool,
    TeacherNotFound,
    TransferNotAllowed,
)
from enrollment.models import Teacher
from enrollment.orgs import repository as org_repo
from enrollment.orgs.service import org_path
from enrollment.teachers import history
from enrollment.teachers import repository as repo
from enrollment.teachers.history import ENROLLMENT_OUTBOX
from enrollment.teachers.service import ADMINS, admin_teacher
from yanxiu.kit.auth import Principal, Role
from yanxiu.kit.outbox import Outbox
from yanxiu.kit.pii import PiiCipher

# Depth of the deepest org both schools share → who moves the teacher, and how to say so.
_REQUIRED: dict[int, tuple[Role, str, str]] = {
    3: (
        Role.county_admin,
        "跨校调动须由县（市、区）管理员操作",
        "A transfer between schools of one county is done by the county admin",
    ),
    2: (
        Role.city_admin,
        "跨县（市、区）调动须由市级管理员操作",
        "A transfer between counties of one city is done by the city admin",
    ),
    1: (
        Role.province_admin,
        "跨市调动须由省级管理员操作",
        "A transfer between cities is done by the province admin",
    ),
}
_MOVED = ("school_id", "county_id", "city_id", "status")


def _shared_depth(a: list[str], b: list[str]) -> int:
    depth = 0
    for x, y in zip(a, b, strict=False):
        if x != y:
            break
        depth += 1
    return depth


async def transfer(
    session: AsyncSession,
    pii: PiiCipher,
    *,
    actor: Principal,
    teacher_id: uuid.UUID,
    to_school_id: str,
    outbox: Outbox = ENROLLMENT_OUTBOX,
) -> Teacher:
    """调动: move a teacher to another school, or take one in from the departed pool."""
    actor.ensure_role(*ADMINS)
    teacher = await repo.lock_teacher(session, teacher_id)
    if teacher is None or not actor.org_path or teacher.province_id != actor.org_path[0]:
        raise TeacherNotFound()
    school = await org_repo.get_org(session, to_school_id)
    if school is None:
        raise OrgNotFound()
    if school.level != "school":
        raise NotASchool()
    target = org_path(school)
    from_pool = teacher.status == "departed"
    if not from_pool and not actor.covers(teacher.org_path):
        # An active teacher outside the caller's subtree does not exist for it: only the
        # departed pool is open province-wide. (Who covers the teacher is told who must act.)
        raise TeacherNotFound()
    if from_pool:
        if not actor.covers(target):
            raise TransferNotAllowed(
                "离职教师只能调入本管理范围内的学校",
                "A departed teacher is taken into a school of your own scope",
            )
    elif not (actor.covers(teacher.org_path) and actor.covers(target)):
        depth = min(_shared_depth(teacher.org_path, target), 3)
        role, zh, en = _REQUIRED[max(depth, 1)]
        raise TransferNotAllowed(
            f"该教师不在离职教师库，{zh}",
            f"The teacher is not in the departed pool: {en}",
            required_role=role.value,
        )
    if school.id == teacher.school_id and not from_pool:
        raise SameSchool()
    before = history.snapshot(teacher, pii)
    from_org = history.org_of(teacher)
    assert school.city_id and school.county_id
    teacher.city_id, teacher.county_id, teacher.school_id = (
        school.city_id,
        school.county_id,
        school.id,
    )
    teacher.status = "active"
    teacher.version += 1
    await session.flush()
    after = history.snapshot(teacher, pii)
    await history.record(
        session,
        teacher,
        actor=actor,
        action="take_in" if from_pool else "transfer",
        before={k: before[k] for k in _MOVED},
        after={k: after[k] for k in _MOVED},
    )
    await outbox.add(session, history.transferred(teacher, from_org=from_org, from_pool=from_pool))
    return teacher


async def depart(
    session: AsyncSession,
    *,
    actor: Principal,
    teacher_id: uuid.UUID,
    outbox: Outbox = ENROLLMENT_OUTBOX,
) -> Teacher:
    """离职: the teacher enters the departed pool; the record and its history stay."""
    teacher = await admin_teacher(session, actor=actor, teacher_id=teacher_id)
    if teacher.status == "departed":
        raise AlreadyDeparted()
    teacher.status = "departed"
    teacher.version += 1
    await session.flush()
    await history.record(
        session,
        teacher,
        actor=actor,
        action="depart",
        before={"status": "active"},
        after={"status": "departed"},
    )
    await outbox.add(session, history.departed(teacher))
    return teacher
