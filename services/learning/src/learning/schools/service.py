"""学校 read model use cases: keep each school's place from enrollment's events, move a teacher's
records when enrollment moves the teacher, and decide who may read or change a school's topics.
Nothing commits here.

Rules (issue #12 point 1, issue #14 point 2):
- A school is known to learning only from enrollment's events; an unknown school is 404.
- A school's topic choice is read by the admins whose subtree holds the school (as stored
  here) and by the school's own teachers (those whose plan learning places at the school);
  anyone else gets 404, whatever the school id.
- It is changed only by the admin of that very school (403 for other roles, 404 for admins of
  any other org).
- Records follow the teacher (调动): a transfer, also a take-in from the departed pool,
  places all the teacher's plans and course progress at the new school, so the old school's
  admin no longer reads them and new selections are checked against the new school's topics.
  Refusal counters and completion events take the plan's place when written, so theirs
  follow from then on; what was counted before stays where it was counted.
- Selections made before a transfer stay, also general electives outside the new school's
  topics: they were valid when made, the hours of the completed ones count, and an
  unfinished one may be finished (a teacher moved after the selection window could otherwise
  neither keep nor replace it). Reads flag them (`outside_school_topics`).
- A departure (离职) leaves the plans at the school the teacher left (enrollment keeps the
  record there) and suspends them ("departed"): nothing new counts, and only admins above the
  school read them (`learning.service`). A take-in resumes them at the new school, hours
  intact. Every TeacherUpdated carries the teacher's current place and status too, so a
  re-sent one (a resync) repairs a plan that missed a transfer or departure."""

from __future__ import annotations

import uuid
from collections.abc import Iterable

from sqlalchemy.ext.asyncio import AsyncSession

from learning.plan_events import PlanState, plans_changed
from learning.schools import repository as repo
from learning.schools.errors import SchoolNotFound
from learning.schools.models import School
from yanxiu.contracts.envelope import OrgPath
from yanxiu.kit.auth import Principal, Role
from yanxiu.kit.reads import Reader
from yanxiu.kit.scope import admin_covers, own_teacher_id


async def place_schools(session: AsyncSession, orgs: Iterable[OrgPath]) -> None:
    """Remember where the schools named by a batch of teacher events sit."""
    await repo.upsert_schools(session, orgs)


Standing = tuple[uuid.UUID, OrgPath, bool]  # teacher, where enrollment places them, employed


async def follow_teachers(session: AsyncSession, standings: Iterable[Standing]) -> int:
    """Each teacher is at their org now, employed (在职) or departed (离职): place the schools
    and move the teachers' records there, suspending or resuming their plans. The last
    standing of a teacher in the batch wins. PlanChanged for each plan whose place or status
    changed (a replayed or unchanged standing writes nothing). Returns how many changed."""
    latest = {s[0]: s for s in standings}
    if not latest:
        return 0
    await repo.upsert_schools(session, (org for _, org, _ in latest.values()))
    changed = await repo.follow_teachers(session, list(latest.values()))
    return await plans_changed(session, map(PlanState.of, changed))


async def readable_school(reader: Reader, *, actor: Principal, school_id: str) -> School:
    """The school, if the caller may read its topic choice; 404 otherwise."""
    school = await repo.get_school(reader, school_id)
    if school is None:
        raise SchoolNotFound()
    if admin_covers(actor, school.org_path):
        return school
    me = own_teacher_id(actor)
    if me is not None and await repo.has_plan_at(reader, teacher_id=me, school_id=school_id):
        return school
    raise SchoolNotFound()


async def school_of_admin(session: AsyncSession, *, actor: Principal, school_id: str) -> School:
    """The school, if the caller is its own school admin: 403 for any other role, 404 for the
    admins of other schools (and for a school learning does not know)."""
    actor.ensure_role(Role.school_admin)
    school = await repo.get_school(session, school_id)
    if school is None or tuple(actor.org_path) != tuple(school.org_path):
        raise SchoolNotFound()
    return school
