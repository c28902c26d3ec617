"""观评课 through the real consumer: a ReviewSubmitted on the lessons topic credits the reviewer's
subject-required hours exactly once per assignment; ReviewRevoked re-evaluates."""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import text

from learning.service import close_plan
from services.learning.tests.conftest import LearningWorld, SeededTeacher
from yanxiu.contracts.envelope import Event, OrgPath
from yanxiu.contracts.lessons import ReviewRevoked, ReviewSubmitted
from yanxiu.testing import eventually

OUTSIDE_2001 = {
    "selection": {"opens": "01-01", "closes": "12-31"},
    "learning": {"opens": "01-01", "closes": "12-31"},
    "subject_required": {"opens": "2001-10-18", "closes": "2001-12-31"},
}


def org(t: SeededTeacher) -> OrgPath:
    p = t.org_path
    return OrgPath(province_id=p[0], city_id=p[1], county_id=p[2], school_id=p[3])


def submitted(t: SeededTeacher, assignment_id: uuid.UUID) -> ReviewSubmitted:
    return ReviewSubmitted(
        review_id=uuid.uuid4(),
        assignment_id=assignment_id,
        reviewer_id=t.teacher_id,
        lesson_id=uuid.uuid4(),
        project_id=t.project_id,
        project_year=t.year,
        stage=t.stage,
        subject=t.subject,
        total_score=Decimal("88.5"),
        org=org(t),
        submitted_at=datetime.now(UTC),
    )


def revoked(t: SeededTeacher, assignment_id: uuid.UUID) -> ReviewRevoked:
    return ReviewRevoked(
        review_id=uuid.uuid4(),
        assignment_id=assignment_id,
        reviewer_id=t.teacher_id,
        project_id=t.project_id,
        project_year=t.year,
        reason="评课无效 invalid review",
        org=org(t),
        revoked_at=datetime.now(UTC),
    )


async def publish(lx: LearningWorld, *events: Event, replay: int = 1) -> None:
    """Send envelopes to the (test-prefixed) lessons topic, each `replay` times with one id."""
    rt = lx.rt
    await rt.producer_ready.wait()
    for event in events:
        env = event.envelope(producer="lessons", trace_id="test")
        for _ in range(replay):
            await rt.producer.send_and_wait(
                rt.settings.topic(event.TOPIC), env.model_dump_json().encode(), key=env.key.encode()
            )


async def outbox(lx: LearningWorld) -> list[tuple[str, dict[str, object]]]:
    async with lx.rt.engine.connect() as conn:
        rows = await conn.execute(
            text("SELECT event_type, payload FROM learning.outbox ORDER BY id")
        )
        return [(r[0], json.loads(r[1])["data"]) for r in rows]


async def review_hours(lx: LearningWorld, t: SeededTeacher) -> str:
    r = await lx.client.get(f"/plans/{t.teacher_id}/progress", headers=lx.auth(t.token))
    assert r.status_code == 200, r.text
    buckets = {b["code"]: b for b in r.json()["items"][0]["buckets"]}
    return str(buckets["subject_required"]["counted_hours"])


async def test_review_credits_subject_required_hours_exactly_once(lx: LearningWorld) -> None:
    t = await lx.seed_plan()
    await lx.seed_rules(t.project_id, "shandong-2023")
    a1, a2 = uuid.uuid4(), uuid.uuid4()
    # The same review replayed (same envelope id) and re-sent (a new envelope, same assignment).
    await publish(lx, submitted(t, a1), replay=2)
    await publish(lx, submitted(t, a1), submitted(t, a2))

    async def two_completions() -> bool:
        return [e for e, _ in await outbox(lx)].count("learning.course_completed") >= 2

    await eventually(two_completions)
    await publish(lx, submitted(t, a2))  # one more re-send, then a marker to wait for
    marker = await lx.seed_plan()
    await publish(lx, submitted(marker, uuid.uuid4()))

    async def marker_seen() -> bool:
        return any(d.get("teacher_id") == str(marker.teacher_id) for _, d in await outbox(lx))

    await eventually(marker_seen)
    mine = [
        d
        for e, d in await outbox(lx)
        if e == "learning.course_completed" and d.get("teacher_id") == str(t.teacher_id)
    ]
    assert len(mine) == 2
    assert {d["source_ref"] for d in mine} == {str(a1), str(a2)}
    assert all(d["category"] == "review" and d["hours"] == "1" for d in mine)
    assert await review_hours(lx, t) == "2.0"


async def test_revoked_review_unmeets_requirements_and_a_new_review_meets_them_again(
    lx: LearningWorld,
) -> None:
    t = await lx.seed_plan()
    await lx.seed_rules(t.project_id, "shandong-2023")
    ethics = await lx.seed_course(kind="required", topic_id="ethics", hours=2)
    electives = await lx.seed_course(scope="subject", hours=19)
    from services.learning.tests.test_attainment import complete

    await complete(lx, t, "ethics", course_id=ethics.id)
    await complete(lx, t, "electives", course_id=electives.id)
    first = [uuid.uuid4() for _ in range(3)]
    await publish(lx, *(submitted(t, a) for a in first))

    async def types() -> list[str]:
        return [e for e, _ in await outbox(lx)]

    await eventually(lambda: _has(types, "learning.requirements_met", 1))
    await publish(lx, revoked(t, first[0]))
    await eventually(lambda: _has(types, "learning.requirements_unmet", 1))
    unmet: dict[str, Any] = next(
        d for e, d in await outbox(lx) if e == "learning.requirements_unmet"
    )
    assert unmet["hours_by_category"]["subject_required"] == "2.0"
    assert "invalid review" in str(unmet["reason"])
    await publish(lx, submitted(t, uuid.uuid4()))
    await eventually(lambda: _has(types, "learning.requirements_met", 2))
    assert (await types()).count("learning.requirements_unmet") == 1


async def test_review_outside_the_subject_required_window_earns_nothing(
    lx: LearningWorld,
) -> None:
    t = await lx.seed_plan()
    await lx.seed_rules(t.project_id, "shandong-2023", windows=OUTSIDE_2001)
    await publish(lx, submitted(t, uuid.uuid4()))
    marker = await lx.seed_plan(project_id=uuid.uuid4())  # a project whose window is open
    await lx.seed_rules(marker.project_id, "shandong-2023")
    await publish(lx, submitted(marker, uuid.uuid4()))

    async def marker_seen() -> bool:
        return any(d.get("teacher_id") == str(marker.teacher_id) for _, d in await outbox(lx))

    await eventually(marker_seen)
    assert not [d for _, d in await outbox(lx) if d.get("teacher_id") == str(t.teacher_id)]
    assert await review_hours(lx, t) == "0.0"


async def _has(types: object, name: str, n: int) -> bool:
    return (await types()).count(name) >= n  # type: ignore[operator]


async def test_a_review_by_a_withdrawn_teacher_earns_nothing_and_is_not_dead_lettered(
    lx: LearningWorld,
) -> None:
    t = await lx.seed_plan()
    await lx.seed_rules(t.project_id, "shandong-2023")
    async with lx.rt.session_factory() as session, session.begin():
        await close_plan(session, teacher_id=t.teacher_id, project_id=t.project_id)
    await publish(lx, submitted(t, uuid.uuid4()))
    marker = await lx.seed_plan()
    await publish(lx, submitted(marker, uuid.uuid4()))

    async def marker_seen() -> bool:
        return any(d.get("teacher_id") == str(marker.teacher_id) for _, d in await outbox(lx))

    await eventually(marker_seen)  # the partition went on past the withdrawn teacher's review
    # The withdrawal's own PlanChanged, and nothing from the review.
    assert [e for e, d in await outbox(lx) if d.get("teacher_id") == str(t.teacher_id)] == [
        "learning.plan_changed"
    ]
