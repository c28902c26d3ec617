"""Typed handlers for the lessons service's events (peer reviews count toward subject hours)."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from learning.attainment.reviews import credit_review, uncredit_review
from yanxiu.contracts.lessons import LESSONS_TOPIC, ReviewRevoked, ReviewSubmitted
from yanxiu.kit.consumer import Subscriber

lessons_events = Subscriber(group="learning.lessons", topics=[LESSONS_TOPIC])


@lessons_events.handler
async def on_review_submitted(session: AsyncSession, event: ReviewSubmitted) -> None:
    await credit_review(session, event)


@lessons_events.handler
async def on_review_revoked(session: AsyncSession, event: ReviewRevoked) -> None:
    await uncredit_review(session, event)
