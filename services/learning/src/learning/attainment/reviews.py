"""观评课: a peer review submitted in the lessons service counts toward the reviewer's
subject-required hours, once per assignment; a revoked review stops counting.

Window rule (decided from the notices): 学科必修 learning is open only in the project's
subject-required window (2023: 10-18 … 12-31; 2020: 12-01 … 12-31), and the reviews *are*
that course, so a review submitted (Asia/Shanghai date) outside that window earns nothing;
it is not recorded. A project without rules, or without that window, takes every review
inside its learning window, or its year where it has none (attainment.windows)."""

from __future__ import annotations

import logging
from decimal import Decimal

from sqlalchemy.ext.asyncio import AsyncSession

from learning.attainment.errors import CompletedInFuture, CompletionOutsideWindow
from learning.attainment.service import record_completion, revoke_completion
from learning.errors import PlanWithdrawn
from learning.rules.service import SHANGHAI, ruleset_for, window_error
from yanxiu.contracts.lessons import ReviewRevoked, ReviewSubmitted

log = logging.getLogger(__name__)
# Hours of a review when the project has no rules yet; evaluation always uses the rules' figure.
DEFAULT_REVIEW_HOURS = Decimal(1)


async def credit_review(session: AsyncSession, event: ReviewSubmitted) -> bool:
    """True when the review was credited now (False: outside the window, the reviewer has
    withdrawn from the project, or credited already)."""
    found = await ruleset_for(session, event.project_id)
    hours = DEFAULT_REVIEW_HOURS
    if found is not None:
        rules, year = found
        hours = rules.review_hours
        day = event.submitted_at.astimezone(SHANGHAI).date()
        if window_error(rules, year, "subject_required", day) is not None:
            log.info("review %s outside the subject-required window", event.assignment_id)
            return False
    try:
        done = await record_completion(
            session,
            teacher_id=event.reviewer_id,
            project_id=event.project_id,
            source="review",
            source_ref=str(event.assignment_id),
            completed_at=event.submitted_at,
            course_title=f"观评课 市级优课 {event.lesson_id}",
            category="review",
            hours=hours,
        )
    except PlanWithdrawn:
        log.info("review %s by a teacher who has withdrawn", event.assignment_id)
        return False
    except (CompletionOutsideWindow, CompletedInFuture) as exc:
        # Outside the project's year (no window), or a clock far ahead: it earns nothing,
        # like a review outside the window; never a dead letter.
        log.info("review %s not credited: %s", event.assignment_id, exc)
        return False
    return done is not None


async def uncredit_review(session: AsyncSession, event: ReviewRevoked) -> bool:
    return await revoke_completion(
        session, source="review", source_ref=str(event.assignment_id), reason=event.reason
    )
