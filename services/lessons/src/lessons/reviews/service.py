"""评课 use cases: a reviewer submits a rubric review of an assigned lesson (once), admins
revoke invalid ones, reviewers flag staged lessons. Each submitted or revoked review is an
event (through the outbox) that learning turns into subject hours. A departed reviewer (离职)
neither reviews nor flags until a school takes them in: nothing of theirs enters the scores."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal

from sqlalchemy import func, select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from lessons.allocation.errors import (
    AlreadyFlagged,
    AlreadyReviewed,
    AssignmentNotFound,
    NotAssignedLesson,
    ReviewerDeparted,
    ReviewerWithdrawn,
    ReviewNotFound,
    ReviewRevokedAlready,
    RubricInvalid,
)
from lessons.allocation.models import DEPARTED, WITHDRAWN, Assignment, Reviewer
from lessons.audit import AUDIT
from lessons.models import Lesson
from lessons.reviews import repository as repo
from lessons.reviews.models import LessonFlag, Review
from lessons.reviews.rubric import RUBRIC
from yanxiu.contracts.envelope import OrgPath
from yanxiu.contracts.lessons import ReviewRevoked, ReviewSubmitted
from yanxiu.kit import writes
from yanxiu.kit.auth import Principal, Role
from yanxiu.kit.outbox import Outbox
from yanxiu.kit.reads import Reader
from yanxiu.kit.scope import is_self, own_teacher_id
from yanxiu.kit.writes import SessionReads


@dataclass(frozen=True)
class ReviewTotals:
    reviews: int
    mean_score: Decimal | None
    flags: int


def _org(r: Reviewer) -> OrgPath:
    return OrgPath(
        province_id=r.province_id, city_id=r.city_id, county_id=r.county_id, school_id=r.school_id
    )


def review_submitted(review: Review, *, reviewer: Reviewer, lesson: Lesson) -> ReviewSubmitted:
    """The review as announced, at submission and by a resync (the row's own time)."""
    return ReviewSubmitted(
        review_id=review.id,
        assignment_id=review.assignment_id,
        reviewer_id=review.reviewer_id,
        lesson_id=review.lesson_id,
        project_id=review.project_id,
        project_year=reviewer.year,
        stage=lesson.stage,
        subject=lesson.subject,
        total_score=review.total_score,
        org=_org(reviewer),
        submitted_at=review.submitted_at,
    )


def check_rubric(scores: dict[str, int]) -> Decimal:
    if set(scores) != set(RUBRIC):
        raise RubricInvalid(
            f"评分项应为：{'、'.join(n for n, _ in RUBRIC.values())}",
            f"Scores must cover exactly: {', '.join(RUBRIC)}",
        )
    for key, points in scores.items():
        name, top = RUBRIC[key]
        if not 0 <= points <= top:
            raise RubricInvalid(f"{name}的分值应在 0–{top} 之间", f"{key} must be 0–{top}")
    return Decimal(sum(scores.values()))


async def submit(
    session: AsyncSession,
    outbox: Outbox,
    *,
    actor: Principal,
    assignment_id: uuid.UUID,
    scores: dict[str, int],
    comment: str,
) -> Review:
    # The assignment, locked (it serialises its reviews), the reviewer, shared-locked, the
    # lesson and any earlier review are only checked and copied from: read on the write's own
    # connection.
    reads = SessionReads(session)
    assignment = await reads.one(
        Assignment, select(Assignment).where(Assignment.id == assignment_id).with_for_update()
    )
    if assignment is None or not is_self(actor, assignment.reviewer_id):
        raise AssignmentNotFound()
    # FOR SHARE: a departure handled meanwhile waits for this review, or this sees it.
    reviewer = await reads.one(
        Reviewer,
        select(Reviewer)
        .where(
            Reviewer.project_id == assignment.project_id,
            Reviewer.teacher_id == assignment.reviewer_id,
        )
        .with_for_update(read=True),
    )
    assert reviewer is not None
    if reviewer.departed:
        raise ReviewerDeparted()
    if reviewer.status == WITHDRAWN:
        raise ReviewerWithdrawn()
    total = check_rubric(scores)
    if await reads.scalar(select(Review.id).where(Review.assignment_id == assignment_id)):
        raise AlreadyReviewed()
    lesson = await reads.get(Lesson, assignment.lesson_id)
    assert lesson is not None
    review = Review(
        id=uuid.uuid4(),
        assignment_id=assignment.id,
        lesson_id=assignment.lesson_id,
        reviewer_id=assignment.reviewer_id,
        project_id=assignment.project_id,
        scores=scores,
        total_score=total,
        comment=comment,
        status="submitted",
        submitted_at=datetime.now(UTC),
    )
    await writes.add(session, review)
    await outbox.add(session, review_submitted(review, reviewer=reviewer, lesson=lesson))
    return review


async def revoke(
    session: AsyncSession, outbox: Outbox, *, actor: Principal, review_id: uuid.UUID, reason: str
) -> Review:
    """A city (for its lessons) or the province revokes an invalid review, with a reason."""
    actor.ensure_role(Role.city_admin, Role.province_admin)
    review = await session.get(Review, review_id, with_for_update=True)
    lesson = await session.get(Lesson, review.lesson_id) if review else None
    if review is None or lesson is None or not actor.covers(lesson.org_path):
        raise ReviewNotFound()
    if review.status == "revoked":
        raise ReviewRevokedAlready()
    reviewer = await session.get(Reviewer, (review.project_id, review.reviewer_id))
    assert reviewer is not None
    review.status, review.revoked_at = "revoked", datetime.now(UTC)
    review.revoked_by, review.revoke_reason = actor.user_id, reason
    await session.flush()
    await AUDIT.record(
        session,
        actor=actor,
        action="review.revoke",
        target_type="review",
        target_id=str(review.id),
        target_org=lesson.org_path,
        before={"status": "submitted", "lesson_id": review.lesson_id},
        after={"status": "revoked", "reason": reason},
    )
    await outbox.add(
        session,
        ReviewRevoked(
            review_id=review.id,
            assignment_id=review.assignment_id,
            reviewer_id=review.reviewer_id,
            project_id=review.project_id,
            project_year=reviewer.year,
            reason=reason,
            org=_org(reviewer),
            revoked_at=review.revoked_at,
        ),
    )
    return review


async def flag(
    session: AsyncSession, *, actor: Principal, lesson_id: uuid.UUID, reason: str
) -> LessonFlag:
    """A reviewer flags a staged "performance" lesson (摆拍/表演课) it was assigned."""
    me = own_teacher_id(actor)
    if me is None:
        raise NotAssignedLesson()
    # The membership of each project the lesson was assigned in (FOR SHARE, as in `submit`).
    statuses = await session.scalars(
        select(Reviewer.status)
        .join(
            Assignment,
            (Assignment.project_id == Reviewer.project_id)
            & (Assignment.reviewer_id == Reviewer.teacher_id),
        )
        .where(Assignment.lesson_id == lesson_id, Assignment.reviewer_id == me)
        .with_for_update(read=True, of=Reviewer)
    )
    found = statuses.all()
    if not found:
        raise NotAssignedLesson()
    if DEPARTED in found:  # a departure is the teacher's, in every project
        raise ReviewerDeparted()
    if set(found) == {WITHDRAWN}:  # withdrawn from every project that assigned it
        raise ReviewerWithdrawn()
    stmt = (
        insert(LessonFlag)
        .values(id=uuid.uuid4(), lesson_id=lesson_id, reviewer_id=me, reason=reason)
        .on_conflict_do_nothing(index_elements=[LessonFlag.lesson_id, LessonFlag.reviewer_id])
        .returning(LessonFlag)
    )
    made = (await session.execute(stmt)).scalar_one_or_none()
    if made is None:
        raise AlreadyFlagged()
    return made


async def list_reviews(
    reader: Reader,
    *,
    actor: Principal,
    lesson_id: uuid.UUID | None,
    after: uuid.UUID | None,
    limit: int,
) -> list[Review]:
    """A teacher sees the reviews it wrote; an admin the reviews of lessons in its subtree;
    any other role none."""
    if actor.is_admin:
        return await repo.list_reviews(
            reader, lesson_id=lesson_id, after=after, limit=limit, scope=actor.org_path
        )
    me = own_teacher_id(actor)
    if me is None:
        return []
    return await repo.list_reviews(
        reader, lesson_id=lesson_id, after=after, limit=limit, reviewer_id=me
    )


async def lesson_review_totals(
    session: AsyncSession, *, lesson_ids: list[uuid.UUID] | None = None, year: int | None = None
) -> dict[uuid.UUID, ReviewTotals]:
    """Per lesson: submitted reviews (revoked ones excluded), their mean total, and flags."""
    stmt = (
        select(Review.lesson_id, func.count(), func.avg(Review.total_score))
        .where(Review.status == "submitted")
        .group_by(Review.lesson_id)
    )
    flags = select(LessonFlag.lesson_id, func.count()).group_by(LessonFlag.lesson_id)
    if lesson_ids is not None:
        stmt = stmt.where(Review.lesson_id.in_(lesson_ids))
        flags = flags.where(LessonFlag.lesson_id.in_(lesson_ids))
    if year is not None:
        stmt = stmt.join(Lesson, Lesson.id == Review.lesson_id).where(Lesson.year == year)
        flags = flags.join(Lesson, Lesson.id == LessonFlag.lesson_id).where(Lesson.year == year)
    flagged = {lid: n for lid, n in (await session.execute(flags)).all()}
    out = {
        lid: ReviewTotals(n, Decimal(mean).quantize(Decimal("0.01")), flagged.pop(lid, 0))
        for lid, n, mean in (await session.execute(stmt)).all()
    }
    out.update({lid: ReviewTotals(0, None, n) for lid, n in flagged.items()})
    return out
