"""选课: the school's general topics (at most N, ethics always included) and the teacher's
elective selection, inside the project's selection window and elective hour range.

Mandatory topics (ethics, 师德师风建设) are added automatically to whatever a school picks and
count toward its maximum; a school never has to name them."""

from __future__ import annotations

import uuid
from decimal import Decimal

from sqlalchemy.ext.asyncio import AsyncSession

from learning import repository as plans_repo
from learning.audit import AUDIT
from learning.catalog import service as catalog
from learning.catalog.models import Course
from learning.catalog.repository import topic_ids as known_topics
from learning.catalog.schemas import TopicRead
from learning.errors import (
    AlreadySelected,
    CourseNotForTeacher,
    CourseNotFound,
    ElectiveHoursExceeded,
    NotElective,
    NotRegistered,
    ProjectRulesMissing,
    SelectionNotFound,
    TooManyTopics,
    TopicNotChosenBySchool,
    TopicUnknown,
)
from learning.models import Plan
from learning.rules.ruleset import RuleSet
from learning.rules.service import require_window, ruleset_for
from learning.schools import service as schools
from learning.selection import repository as repo
from learning.selection.models import Selection
from learning.selection.schemas import (
    SchoolTopicsPut,
    SchoolTopicsRead,
    SelectionRead,
    SelectionsRead,
)
from learning.service import WITHDRAWN, ensure_plan_counts
from yanxiu.kit.auth import Principal, Role
from yanxiu.kit.errors import Forbidden
from yanxiu.kit.reads import Db, Reader
from yanxiu.kit.writes import SessionReads


async def _rules(db: Db, project_id: uuid.UUID) -> RuleSet:
    found = await ruleset_for(db, project_id)
    if found is None:
        raise ProjectRulesMissing()
    return found[0]


async def choose_topics(
    session: AsyncSession, *, actor: Principal, school_id: str, body: SchoolTopicsPut
) -> SchoolTopicsRead:
    """学校选专题: the school admin replaces the school's general topics for a project (only
    the admin of that school, as learning knows it from enrollment's events)."""
    await schools.school_of_admin(session, actor=actor, school_id=school_id)
    rules = await _rules(session, body.project_id)
    await require_window(session, project_id=body.project_id, window="selection")
    wanted = list(dict.fromkeys([*rules.mandatory_topics, *body.topic_ids]))
    unknown = set(wanted) - await known_topics(session, wanted)
    if unknown:
        names = ", ".join(sorted(unknown))
        raise TopicUnknown(f"没有专题 {names}", f"No topic {names}")
    if len(wanted) > rules.max_school_topics:
        raise TooManyTopics(
            f"学校最多选择 {rules.max_school_topics} 个通识专题（含必选专题），"
            f"收到 {len(wanted)} 个",
            f"A school chooses at most {rules.max_school_topics} general topics (mandatory "
            f"ones included); got {len(wanted)}",
            max_topics=rules.max_school_topics,
        )
    before = await repo.school_topic_ids(session, project_id=body.project_id, school_id=school_id)
    await repo.replace_school_topics(
        session, project_id=body.project_id, school_id=school_id, topic_ids=wanted, by=actor.user_id
    )
    # The school's stored org path is its admin's own (school_of_admin checked them equal).
    await AUDIT.record(
        session,
        actor=actor,
        action="school.choose_topics",
        target_type="school",
        target_id=school_id,
        target_org=actor.org_path,
        before={"project_id": body.project_id, "topic_ids": sorted(before)},
        after={"project_id": body.project_id, "topic_ids": wanted},
    )
    return await _school_topics(session, project_id=body.project_id, school_id=school_id)


async def school_topics(
    reader: Reader, *, actor: Principal, project_id: uuid.UUID, school_id: str
) -> SchoolTopicsRead:
    """A school's topic list (what its teachers choose from), for the school's own teachers and
    the admins covering it; 404 for anyone else (`learning.schools.service`)."""
    await schools.readable_school(reader, actor=actor, school_id=school_id)
    return await _school_topics(reader, project_id=project_id, school_id=school_id)


async def _school_topics(db: Db, *, project_id: uuid.UUID, school_id: str) -> SchoolTopicsRead:
    rules = await _rules(db, project_id)
    ids = await repo.school_topic_ids(db, project_id=project_id, school_id=school_id)
    ids |= set(rules.mandatory_topics)
    return SchoolTopicsRead(
        project_id=project_id,
        school_id=school_id,
        max_topics=rules.max_school_topics,
        mandatory_topics=rules.mandatory_topics,
        topics=[TopicRead.model_validate(t) for t in await repo.topics_by_id(db, list(ids))],
    )


def fits_teacher(course: Course, plan: Plan) -> bool:
    """Stage always; subject only for subject courses (an empty list means every one)."""
    if course.stages and plan.stage not in course.stages:
        return False
    return course.scope != "subject" or not course.subjects or plan.subject in course.subjects


def _learner(actor: Principal) -> uuid.UUID:
    """The caller's teacher id: selections are a teacher's own."""
    actor.ensure_role(Role.teacher)
    if actor.teacher_id is None:
        raise Forbidden()
    return uuid.UUID(actor.teacher_id)


def _registered(plan: Plan | None) -> Plan:
    """A withdrawn plan is not the teacher's any more (not registered)."""
    if plan is None or plan.status == WITHDRAWN:
        raise NotRegistered()
    return plan


async def _teacher_plan(session: AsyncSession, actor: Principal, project_id: uuid.UUID) -> Plan:
    """The caller's own plan, locked, to change its selections: a departed (suspended) one is
    read (`selections_of`) but not changed (plan_departed). Only checked: read on the write's
    own connection."""
    plan = _registered(
        await repo.lock_plan(
            SessionReads(session), teacher_id=_learner(actor), project_id=project_id
        )
    )
    ensure_plan_counts(plan)
    return plan


async def select_course(
    session: AsyncSession, *, actor: Principal, project_id: uuid.UUID, course_id: uuid.UUID
) -> SelectionRead:
    """选课: general electives only inside the school's topics, subject electives of the
    teacher's stage and subject, the selected electives' hours within the project's maximum."""
    plan = await _teacher_plan(session, actor, project_id)
    rules = await _rules(session, project_id)
    await require_window(session, project_id=project_id, window="selection")
    # The course, the school's topics and the teacher's selections are only checked: read on
    # the write's own connection (the plan, locked above, serialises a teacher's selections).
    reads = SessionReads(session)
    course = await reads.get(Course, course_id)
    if course is None:
        raise CourseNotFound()
    if course.kind != "elective" or course.category not in rules.elective_categories:
        raise NotElective()
    if not fits_teacher(course, plan):
        raise CourseNotForTeacher()
    if course.category == "general_elective":
        offered = await repo.school_topic_ids(
            reads, project_id=project_id, school_id=plan.school_id
        )
        if not _offered(course, offered | set(rules.mandatory_topics)):
            raise TopicNotChosenBySchool()
    current = await repo.selected(reads, teacher_id=plan.teacher_id, project_id=project_id)
    if any(c.id == course.id for _, c in current):
        raise AlreadySelected()
    total = sum((c.hours for _, c in current), Decimal(0)) + course.hours
    cap = rules.elective_max_hours
    if cap is not None and total > cap:
        raise ElectiveHoursExceeded(
            f"选修课程最多 {cap} 学时，选择后将为 {total} 学时",
            f"Electives may total at most {cap} h; this selection would make {total} h",
            max_hours=str(cap),
            selected_hours=str(total - course.hours),
        )
    row = await repo.add(
        session, teacher_id=plan.teacher_id, project_id=project_id, course_id=course.id
    )
    return _read(row, course)


async def unselect(session: AsyncSession, *, actor: Principal, selection_id: uuid.UUID) -> None:
    row = await session.get(Selection, selection_id)
    if row is None or actor.teacher_id != str(row.teacher_id):
        raise SelectionNotFound()
    await _teacher_plan(session, actor, row.project_id)
    await require_window(session, project_id=row.project_id, window="selection")
    await repo.remove(session, row)


async def selections_of(
    reader: Reader, *, actor: Principal, project_id: uuid.UUID
) -> SelectionsRead:
    """The caller's own selections in a project (a teacher has a few dozen at most: one page)."""
    plan = _registered(
        await plans_repo.plan_of(reader, teacher_id=_learner(actor), project_id=project_id)
    )
    rules = await _rules(reader, project_id)
    current = await repo.selected(reader, teacher_id=plan.teacher_id, project_id=project_id)
    offered = await repo.school_topic_ids(reader, project_id=project_id, school_id=plan.school_id)
    offered |= set(rules.mandatory_topics)
    return SelectionsRead(
        items=[_read(s, c, outside=not _offered(c, offered)) for s, c in current],
        selected_hours=sum((c.hours for _, c in current), Decimal(0)),
        elective_min_hours=rules.elective_min_hours,
        elective_max_hours=rules.elective_max_hours,
    )


def _offered(course: Course, topics: set[str]) -> bool:
    """A general elective is offered inside the school's topics; other courses always."""
    return course.category != "general_elective" or course.topic_id in topics


def _read(row: Selection, course: Course, *, outside: bool = False) -> SelectionRead:
    return SelectionRead(
        id=row.id,
        teacher_id=row.teacher_id,
        project_id=row.project_id,
        course=catalog.read(course),
        created_at=row.created_at,
        outside_school_topics=outside,
    )
