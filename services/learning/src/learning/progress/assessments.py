"""考核: a teacher answers a course's assessment; it is scored here against the pass mark, every
attempt is kept, and a pass on a course already watched enough completes it."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

from sqlalchemy.ext.asyncio import AsyncSession

from learning.errors import CourseNotFound, NotRegistered, PlanDeparted
from learning.progress import repository as repo
from learning.progress.errors import AnswersInvalid, NoAssessment
from learning.progress.models import AssessmentAttempt
from learning.progress.schemas import AssessmentIn, AssessmentResult
from learning.progress.service import complete
from learning.progress.verification import score
from learning.rules.service import require_window
from learning.service import departed_among
from yanxiu.kit.auth import Principal, Role
from yanxiu.kit.errors import Forbidden

DEFAULT_PASS_MARK = 60


def learner(actor: Principal) -> uuid.UUID:
    """The teacher acting for themselves (heartbeats and assessments are only theirs)."""
    actor.ensure_role(Role.teacher)
    if not actor.teacher_id:
        raise Forbidden("令牌未关联教师", "The token names no teacher")
    return uuid.UUID(actor.teacher_id)


async def submit(
    session: AsyncSession, *, actor: Principal, data: AssessmentIn
) -> AssessmentResult:
    teacher_id = learner(actor)
    course = (await repo.courses(session, [data.course_id])).get(data.course_id)
    if course is None:
        raise CourseNotFound()
    plans = await repo.active_plans(session, [(teacher_id, data.project_id)])
    org = plans.get((teacher_id, data.project_id))
    if org is None:
        if await departed_among(session, [(teacher_id, data.project_id)]):
            raise PlanDeparted()
        raise NotRegistered()
    await require_window(session, project_id=data.project_id, window=course.window)  # type: ignore[arg-type]
    if not course.has_assessment:
        raise NoAssessment()
    known = {str(q.get("id")) for q in course.questions}
    unknown = sorted(set(data.answers) - known)
    if unknown:
        raise AnswersInvalid(
            f"未知题目：{', '.join(unknown)}", f"Unknown questions: {', '.join(unknown)}"
        )

    key = (teacher_id, data.course_id, data.project_id)
    row = await repo.lock_progress_for_assessment(session, key, org, course.video_seconds)
    mark = course.pass_mark if course.pass_mark is not None else DEFAULT_PASS_MARK
    points = score(course.questions, data.answers)
    passed = points >= mark
    attempt = AssessmentAttempt(
        id=uuid.uuid4(),
        teacher_id=teacher_id,
        project_id=data.project_id,
        course_id=data.course_id,
        answers=dict(data.answers),
        score=points,
        pass_mark=mark,
        passed=passed,
    )
    await repo.add_attempt(session, attempt)
    now = datetime.now(UTC)
    completes = (
        (passed or row.passed_at is not None)
        and row.watched_at is not None
        and row.completed_at is None
    )
    await repo.record_assessment(
        session,
        row_id=row.id,
        score=points,
        passed_at=now if passed else None,
        completed_at=now if completes else None,
    )
    if completes:
        await complete(
            session,
            row=row,
            teacher_id=teacher_id,
            project_id=data.project_id,
            course=course,
            at=now,
            score=points if passed else None,
        )
    return AssessmentResult(
        attempt_id=attempt.id,
        course_id=data.course_id,
        score=points,
        pass_mark=mark,
        passed=passed,
        attempts=await repo.count_attempts(
            session, teacher_id=teacher_id, course_id=data.course_id, project_id=data.project_id
        ),
        watched=row.watched_at is not None,
        completed=completes or row.completed_at is not None,
    )
