"""Typed handlers: every service's events become facts, and the facts' tallies move with them
(insights.feed.facts). One consumer group reads the four topics; the kit's inbox makes each
event count once, and each handler only sets facts (never adds to a number), so a re-sent
snapshot (`yanxiu resync`) changes nothing that is already right.

A teacher's events of one topic arrive in order (topics are keyed by teacher id); between
topics they may not, which is why a standing can be seeded by any of them and counts only once
its registration is there."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, time
from decimal import Decimal
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from insights.feed import seeds
from insights.feed.facts import (
    LESSONS,
    OFFLINE_RECORDS,
    REVIEW_LOADS,
    STANDINGS,
    TEACHER_YEARS,
    FactEdit,
    Row,
    change,
    keys_of_teachers,
)
from insights.feed.tally import SHANGHAI, plain
from insights.models import Completion, Project, Review
from yanxiu.contracts.credits import (
    CREDITS_TOPIC,
    CertificateIssued,
    CertificateRevoked,
    OfflineRecordChanged,
    YearTallied,
)
from yanxiu.contracts.enrollment import (
    ENROLLMENT_TOPIC,
    ProjectOpened,
    TeacherDeparted,
    TeacherRegistered,
    TeacherTransferred,
    TeacherUpdated,
    TeacherWithdrawn,
)
from yanxiu.contracts.envelope import OrgPath
from yanxiu.contracts.learning import (
    LEARNING_TOPIC,
    CourseCompleted,
    CourseCompletionRevoked,
    PlanChanged,
    RequirementsMet,
    RequirementsUnmet,
    StudyStarted,
)
from yanxiu.contracts.lessons import (
    LESSONS_TOPIC,
    LessonAwarded,
    LessonPromoted,
    LessonSubmitted,
    ReviewRevoked,
    ReviewsAllocated,
    ReviewSubmitted,
)
from yanxiu.kit.consumer import Subscriber

every_topic = Subscriber(
    group="insights.dashboards",
    topics=[ENROLLMENT_TOPIC, LEARNING_TOPIC, LESSONS_TOPIC, CREDITS_TOPIC],
)


def _set(**values: Any) -> Any:
    def edit(row: Row) -> None:
        row.update(values)

    return edit


def _earliest(column: str, at: datetime) -> Any:
    def edit(row: Row) -> None:
        if row[column] is None or at < row[column]:
            row[column] = at

    return edit


def _moved(org: OrgPath, **values: Any) -> Any:
    return _set(**seeds.place(org), **values)


# -- enrollment ----------------------------------------------------------------------------


@every_topic.handler
async def on_project_opened(session: AsyncSession, event: ProjectOpened) -> None:
    row = {
        "project_id": event.project_id,
        "name": event.name,
        "year": event.year,
        "stage": event.stage,
        "owner_org_id": event.owner_org_id,
        "opened_at": datetime.combine(event.registration_opens_on, time.min, tzinfo=SHANGHAI),
    }
    stmt = insert(Project).values(row)
    await session.execute(
        stmt.on_conflict_do_update(
            index_elements=[Project.project_id],
            set_={k: stmt.excluded[k] for k in row if k != "project_id"},
        )
    )


@every_topic.handler
async def on_teacher_registered(session: AsyncSession, events: list[TeacherRegistered]) -> None:
    """报名: the teacher counts in the project from now, at the registration's place."""
    await change(
        session,
        STANDINGS,
        [
            FactEdit(
                (e.project_id, e.teacher_id),
                _moved(
                    e.org,
                    year=e.project_year,
                    teacher_name=e.teacher_name,
                    stage=e.stage,
                    subject=e.subject,
                    is_rural=e.is_rural,
                    registered_at=e.registered_at,
                ),
                seeds.standing(e.project_id, e.teacher_id, e.org),
            )
            for e in events
        ],
    )


@every_topic.handler
async def on_teacher_withdrawn(session: AsyncSession, events: list[TeacherWithdrawn]) -> None:
    await change(
        session,
        STANDINGS,
        [FactEdit((e.project_id, e.teacher_id), _set(registered_at=None)) for e in events],
    )


async def _follow(
    session: AsyncSession, standings: Sequence[tuple[Any, OrgPath, dict[str, Any]]]
) -> None:
    """Each teacher's standings in every project take the teacher's place (and values)."""
    latest = {teacher: (org, values) for teacher, org, values in standings}
    keys = await keys_of_teachers(session, latest)
    await change(
        session,
        STANDINGS,
        [FactEdit(k, _moved(latest[k[1]][0], **latest[k[1]][1])) for k in keys],
    )


@every_topic.handler
async def on_teacher_transferred(session: AsyncSession, events: list[TeacherTransferred]) -> None:
    """调动: the teacher's numbers move to the new school, at every level above it."""
    await _follow(session, [(e.teacher_id, e.to_org, {"employment": "active"}) for e in events])


@every_topic.handler
async def on_teacher_updated(session: AsyncSession, events: list[TeacherUpdated]) -> None:
    await _follow(
        session,
        [
            (e.teacher_id, e.org, {"teacher_name": e.teacher_name, "employment": e.status})
            for e in events
        ],
    )


@every_topic.handler
async def on_teacher_departed(session: AsyncSession, events: list[TeacherDeparted]) -> None:
    await _follow(session, [(e.teacher_id, e.org, {"employment": "departed"}) for e in events])


# -- learning ------------------------------------------------------------------------------


@every_topic.handler
async def on_plan_changed(session: AsyncSession, events: list[PlanChanged]) -> None:
    await change(
        session,
        STANDINGS,
        [
            FactEdit(
                (e.project_id, e.teacher_id),
                _set(plan_status=e.status, plan_at=e.changed_at),
                seeds.standing(e.project_id, e.teacher_id, e.org),
            )
            for e in events
        ],
    )


@every_topic.handler
async def on_study_started(session: AsyncSession, events: list[StudyStarted]) -> None:
    await change(
        session,
        STANDINGS,
        [
            FactEdit(
                (e.project_id, e.teacher_id),
                _earliest("started_at", e.started_at),
                seeds.standing(e.project_id, e.teacher_id, e.org),
            )
            for e in events
        ],
    )


async def _hours_of(session: AsyncSession, keys: set[tuple[Any, Any]]) -> dict[Any, dict[str, str]]:
    """Hours studied by category of each (project, teacher), from the counted courses."""
    hours: dict[Any, dict[str, str]] = {k: {} for k in keys}
    if not keys:
        return hours
    rows = await session.execute(
        select(Completion.project_id, Completion.teacher_id, Completion.category)
        .add_columns(func.sum(Completion.hours))
        .where(
            Completion.teacher_id.in_({t for _, t in keys}),
            Completion.project_id.in_({p for p, _ in keys}),
        )
        .group_by(Completion.project_id, Completion.teacher_id, Completion.category)
    )
    for project_id, teacher_id, category, total in rows.all():
        if (project_id, teacher_id) in hours:
            hours[(project_id, teacher_id)][category] = str(plain(Decimal(total)))
    return hours


@every_topic.handler
async def on_course_completed(session: AsyncSession, events: list[CourseCompleted]) -> None:
    """课程完成: the course counts once per course identity; a completion also means the
    teacher has started (for events from before learning said so)."""
    latest = {(e.project_id, e.teacher_id, e.counted_course()): e for e in events}
    rows = [
        {
            "project_id": e.project_id,
            "teacher_id": e.teacher_id,
            "course_key": key[2],
            "completion_id": e.completion_id,
            "category": e.category,
            "hours": e.hours,
        }
        for key, e in sorted(latest.items(), key=lambda kv: tuple(map(str, kv[0])))
    ]
    stmt = insert(Completion).values(rows)
    await session.execute(
        stmt.on_conflict_do_update(
            index_elements=[Completion.project_id, Completion.teacher_id, Completion.course_key],
            set_={c: stmt.excluded[c] for c in ("completion_id", "category", "hours")},
        )
    )
    keys = {(e.project_id, e.teacher_id) for e in events}
    hours = await _hours_of(session, keys)
    firsts: dict[tuple[Any, Any], CourseCompleted] = {}
    for e in events:
        k = (e.project_id, e.teacher_id)
        if k not in firsts or e.completed_at < firsts[k].completed_at:
            firsts[k] = e
    edits = []
    for k, e in firsts.items():
        started = _earliest("started_at", e.completed_at)

        def edit(row: Row, started: Any = started, h: dict[str, str] = hours[k]) -> None:
            started(row)
            row["hours"] = h

        edits.append(FactEdit(k, edit, seeds.standing(k[0], k[1], e.org)))
    await change(session, STANDINGS, edits)


@every_topic.handler
async def on_completion_revoked(
    session: AsyncSession, events: list[CourseCompletionRevoked]
) -> None:
    await session.execute(
        Completion.__table__.delete().where(  # type: ignore[attr-defined]
            Completion.completion_id.in_([e.completion_id for e in events])
        )
    )
    keys = {(e.project_id, e.teacher_id) for e in events}
    hours = await _hours_of(session, keys)
    await change(session, STANDINGS, [FactEdit(k, _set(hours=hours[k])) for k in sorted(keys)])


@every_topic.handler
async def on_requirements_met(session: AsyncSession, events: list[RequirementsMet]) -> None:
    """达标: counted from the first time it was reached (a re-sent one keeps that day)."""
    await change(
        session,
        STANDINGS,
        [
            FactEdit(
                (e.project_id, e.teacher_id),
                _earliest("met_at", e.met_at),
                seeds.standing(e.project_id, e.teacher_id, e.org),
            )
            for e in events
        ],
    )


@every_topic.handler
async def on_requirements_unmet(session: AsyncSession, events: list[RequirementsUnmet]) -> None:
    await change(
        session,
        STANDINGS,
        [FactEdit((e.project_id, e.teacher_id), _set(met_at=None)) for e in events],
    )


# -- lessons -------------------------------------------------------------------------------


async def _reviews_done(
    session: AsyncSession, rows: list[dict[str, Any]], orgs: dict[Any, OrgPath]
) -> None:
    """Write each review's state (in, or revoked), then set each reviewer's count from them."""
    stmt = insert(Review).values(sorted(rows, key=lambda r: str(r["assignment_id"])))
    await session.execute(
        stmt.on_conflict_do_update(
            index_elements=[Review.assignment_id], set_={"done": stmt.excluded.done}
        )
    )
    keys = {(r["project_id"], r["reviewer_id"]) for r in rows}
    counted = await session.execute(
        select(Review.project_id, Review.reviewer_id)
        .add_columns(func.count().filter(Review.done))
        .where(
            Review.reviewer_id.in_({t for _, t in keys}),
            Review.project_id.in_({p for p, _ in keys}),
        )
        .group_by(Review.project_id, Review.reviewer_id)
    )
    done = {(p, t): n for p, t, n in counted.all()}
    await change(
        session,
        STANDINGS,
        [
            FactEdit(k, _set(reviews_done=done.get(k, 0)), seeds.standing(k[0], k[1], orgs[k]))
            for k in sorted(keys, key=lambda k: (str(k[0]), str(k[1])))
        ],
    )


def _review_rows(events: Sequence[ReviewSubmitted | ReviewRevoked], *, done: bool) -> Any:
    return [
        {
            "assignment_id": e.assignment_id,
            "project_id": e.project_id,
            "reviewer_id": e.reviewer_id,
            "done": done,
        }
        for e in {e.assignment_id: e for e in events}.values()
    ]


@every_topic.handler
async def on_review_submitted(session: AsyncSession, events: list[ReviewSubmitted]) -> None:
    """观评课: a review in counts for its reviewer, where the reviewer is."""
    orgs = {(e.project_id, e.reviewer_id): e.org for e in events}
    await _reviews_done(session, _review_rows(events, done=True), orgs)


@every_topic.handler
async def on_review_revoked(session: AsyncSession, events: list[ReviewRevoked]) -> None:
    orgs = {(e.project_id, e.reviewer_id): e.org for e in events}
    await _reviews_done(session, _review_rows(events, done=False), orgs)


def _load(e: ReviewsAllocated, assigned: int) -> Any:
    def edit(row: Row) -> None:
        if e.allocated_at < row["allocated_at"]:
            return  # an older snapshot than the one kept
        row.update(assigned=assigned, allocated_at=e.allocated_at)

    return edit


@every_topic.handler
async def on_reviews_allocated(session: AsyncSession, events: list[ReviewsAllocated]) -> None:
    """观评课分配: each school's assignments in the project, as lessons counts them now."""
    await change(
        session,
        REVIEW_LOADS,
        [
            FactEdit(
                (e.project_id, school),
                _load(e, assigned),
                {
                    "project_id": e.project_id,
                    "school_id": school,
                    "province_id": e.province_id,
                    "city_id": e.city_id,
                    "county_id": e.county_id,
                    "assigned": assigned,
                    "allocated_at": e.allocated_at,
                },
            )
            for e in events
            for school, assigned in sorted(e.schools.items())
        ],
    )


@every_topic.handler
async def on_lesson_submitted(session: AsyncSession, events: list[LessonSubmitted]) -> None:
    await change(
        session,
        LESSONS,
        [
            FactEdit(
                (e.lesson_id,),
                _moved(e.org, submitted_at=e.submitted_at, stage=e.stage, subject=e.subject),
                seeds.lesson(e.lesson_id, e.teacher_id, e.year, e.stage, e.subject, e.org),
            )
            for e in events
        ],
    )


def _level(level: str, at: datetime) -> Any:
    def edit(row: Row) -> None:
        row["levels"] = {**(row["levels"] or {}), level: at.isoformat()}

    return edit


@every_topic.handler
async def on_lesson_promoted(session: AsyncSession, events: list[LessonPromoted]) -> None:
    await change(
        session,
        LESSONS,
        [
            FactEdit(
                (e.lesson_id,),
                _level(e.level, e.promoted_at),
                seeds.lesson(e.lesson_id, e.teacher_id, e.year, e.stage, e.subject, e.org),
            )
            for e in events
        ],
    )


@every_topic.handler
async def on_lesson_awarded(session: AsyncSession, events: list[LessonAwarded]) -> None:
    await change(
        session,
        LESSONS,
        [
            FactEdit(
                (e.lesson_id,),
                _set(award=e.award),
                seeds.lesson(e.lesson_id, e.teacher_id, e.year, e.stage, e.subject, e.org),
            )
            for e in events
        ],
    )


# -- credits -------------------------------------------------------------------------------


def _tallied(e: YearTallied) -> Any:
    def edit(row: Row) -> None:
        if row["tallied_at"] is not None and e.tallied_at < row["tallied_at"]:
            return  # an older snapshot than the one kept
        row.update(seeds.place(e.org))
        row["total_hours"] = e.total_hours
        row["complete"] = e.complete
        row["tallied_at"] = e.tallied_at
        if e.total_hours > 0:
            row["credited_at"] = row["credited_at"] or e.tallied_at
        else:
            row["credited_at"] = None
        row["complete_at"] = (row["complete_at"] or e.tallied_at) if e.complete else None

    return edit


@every_topic.handler
async def on_year_tallied(session: AsyncSession, events: list[YearTallied]) -> None:
    """学分登记: the teacher's year as credits counts it now."""
    await change(
        session,
        TEACHER_YEARS,
        [
            FactEdit(
                (e.teacher_id, e.year), _tallied(e), seeds.teacher_year(e.teacher_id, e.year, e.org)
            )
            for e in events
        ],
    )


@every_topic.handler
async def on_certificate_issued(session: AsyncSession, events: list[CertificateIssued]) -> None:
    await change(
        session,
        TEACHER_YEARS,
        [
            FactEdit(
                (e.teacher_id, e.year),
                _set(certificate_id=e.certificate_id, certified_at=e.issued_at),
                seeds.teacher_year(e.teacher_id, e.year, e.org),
            )
            for e in events
        ],
    )


def _uncertified(certificate_id: Any) -> Any:
    def edit(row: Row) -> None:
        if row["certificate_id"] == certificate_id:
            row["certificate_id"] = None
            row["certified_at"] = None

    return edit


@every_topic.handler
async def on_certificate_revoked(session: AsyncSession, events: list[CertificateRevoked]) -> None:
    await change(
        session,
        TEACHER_YEARS,
        [FactEdit((e.teacher_id, e.year), _uncertified(e.certificate_id)) for e in events],
    )


def _record(e: OfflineRecordChanged) -> Any:
    def edit(row: Row) -> None:
        if e.changed_at < row["changed_at"]:
            return  # an older step than the one kept
        row.update(seeds.place(e.org))
        row.update(status=e.status, category=e.category, hours=e.hours, changed_at=e.changed_at)

    return edit


@every_topic.handler
async def on_offline_record_changed(
    session: AsyncSession, events: list[OfflineRecordChanged]
) -> None:
    """线下学时: each record at its current step (待初审 / 待审批 / 已入账 / 退回)."""
    await change(
        session,
        OFFLINE_RECORDS,
        [
            FactEdit(
                (e.record_id,),
                _record(e),
                {
                    "record_id": e.record_id,
                    "teacher_id": e.teacher_id,
                    "year": e.year,
                    **seeds.place(e.org),
                    "status": e.status,
                    "category": e.category,
                    "hours": e.hours,
                    "changed_at": e.changed_at,
                },
            )
            for e in events
        ],
    )
