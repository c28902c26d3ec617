"""学习进度 use cases: a batch of heartbeats verified and written at once; assessments (考核);
a teacher's progress; refusal counts for admins. Nothing commits here: the heartbeat writer and
the request boundary do."""

from __future__ import annotations

import json
import logging
import uuid
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

from sqlalchemy.ext.asyncio import AsyncSession

from learning.attainment.errors import CompletedInFuture, CompletionOutsideWindow
from learning.attainment.service import record_completion
from learning.errors import CourseNotFound, NotRegistered, PlanDeparted
from learning.plan_events import Start, start_study
from learning.progress import repository as repo
from learning.progress.repository import CourseInfo, Key, Org, ProgressRow
from learning.progress.verification import (
    ACCEPTED,
    Limits,
    ViewerState,
    verify,
    watched_enough,
)
from learning.rules.ruleset import RuleSet
from learning.rules.service import ruleset_at, window_error
from learning.service import departed_among
from yanxiu.kit.errors import DomainError

SHANGHAI = ZoneInfo("Asia/Shanghai")
log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Policy:
    """What decides a heartbeat's fate, from settings."""

    limits: Limits = field(default_factory=Limits)
    watch_ratio: float = 0.95


@dataclass(frozen=True)
class Beat:
    """One heartbeat as received: who (from the token), what, and the server's receipt time."""

    teacher_id: uuid.UUID
    course_id: uuid.UUID
    project_id: uuid.UUID
    session_id: str
    position: float
    segments: tuple[tuple[float, float], ...]
    client_at: datetime | None
    received_at: datetime


@dataclass(frozen=True)
class Outcome:
    outcome: str
    course_id: uuid.UUID
    credited_seconds: float = 0.0
    watched_seconds: float = 0.0
    video_seconds: int = 0
    watched: bool = False
    completed: bool = False

    @property
    def accepted(self) -> bool:
        return self.outcome == ACCEPTED


Result = Outcome | DomainError


Plans = dict[tuple[uuid.UUID, uuid.UUID], Org]


@dataclass
class Admission:
    """What the batch learnt before judging: refusals of whole heartbeats (unknown course, not
    registered, window closed), the courses, the plans (and which are not started yet), each
    project's watch ratio, and the locked viewer state of every registered teacher in the
    batch."""

    errors: dict[int, DomainError]
    courses: dict[uuid.UUID, CourseInfo]
    plans: Plans
    ratios: dict[uuid.UUID, float]
    viewers: dict[uuid.UUID, ViewerState]
    unstarted: set[tuple[uuid.UUID, uuid.UUID]]


async def _admissible(session: AsyncSession, beats: Sequence[Beat], policy: Policy) -> Admission:
    """One statement for the courses, the plans, the rule-set versions and the viewer locks
    (`repo.open_batch`); a rule set is parsed only when its version is new to the process.
    The windows and the watch ratio are per project (the setting where a project has none)."""
    errors: dict[int, DomainError] = {}
    opened = await repo.open_batch(
        session,
        list({(b.teacher_id, b.project_id) for b in beats}),
        list({b.course_id for b in beats}),
    )
    courses, plans = opened.courses, opened.plans
    # Only active plans come back; a suspended (离职) one is refused with its own reason.
    missing = {(b.teacher_id, b.project_id) for b in beats} - plans.keys()
    departed = await departed_among(session, sorted(missing))
    rule_sets: dict[uuid.UUID, tuple[RuleSet, int] | None] = {}
    for p in {b.project_id for b in beats}:
        version = opened.rule_versions.get(p)
        rule_sets[p] = await ruleset_at(session, p, version) if version else None
    ratios = {
        p: found[0].watch_ratio if found else policy.watch_ratio for p, found in rule_sets.items()
    }
    for i, b in enumerate(beats):
        course = courses.get(b.course_id)
        if course is None:
            errors[i] = CourseNotFound()
            continue
        if (b.teacher_id, b.project_id) in departed:
            errors[i] = PlanDeparted()
            continue
        if (b.teacher_id, b.project_id) not in plans:
            errors[i] = NotRegistered(
                "只有已报名本项目的教师可以学习", "Only registered teachers learn"
            )
            continue
        found = rule_sets[b.project_id]
        if found is not None:
            # The same check as rules.service.require_window, on the rule set read above and
            # on the day the heartbeat arrived.
            day = b.received_at.astimezone(SHANGHAI).date()
            closed = window_error(found[0], found[1], course.window, day)  # type: ignore[arg-type]
            if closed is not None:
                errors[i] = closed
    return Admission(errors, courses, plans, ratios, opened.viewers, opened.unstarted)


async def process_heartbeats(
    session: AsyncSession, *, beats: Sequence[Beat], policy: Policy
) -> list[Result]:
    """Verifies and writes one batch (every row of it in the caller's transaction): each beat
    gets its outcome, or the domain error that kept it from being judged."""
    admission = await _admissible(session, beats, policy)
    errors, courses, plans = admission.errors, admission.courses, admission.plans
    viewers = admission.viewers
    judged = [i for i in range(len(beats)) if i not in errors]
    results: list[Result | None] = [errors.get(i) for i in range(len(beats))]
    if not judged:
        return [r for r in results if r is not None]

    wanted: dict[Key, tuple[Org, int]] = {}
    for i in judged:
        b = beats[i]
        wanted[(b.teacher_id, b.course_id, b.project_id)] = (
            plans[(b.teacher_id, b.project_id)],
            courses[b.course_id].video_seconds,
        )
    rows = await repo.load_progress(session, wanted)

    log: list[repo.Log] = []
    refusals: dict[repo.RefusalKey, int] = defaultdict(int)
    completed: list[tuple[ProgressRow, Beat, CourseInfo]] = []
    starts: list[Start] = []  # accepted beats on plans not started yet (read with the batch)
    for i in judged:
        b = beats[i]
        row = rows[(b.teacher_id, b.course_id, b.project_id)]
        course = courses[b.course_id]
        verdict = verify(
            viewers[b.teacher_id],
            row.state,
            session_id=b.session_id,
            position=b.position,
            segments=b.segments,
            now=b.received_at,
            limits=policy.limits,
        )
        row.heartbeats += 1
        if verdict.accepted:
            if (b.teacher_id, b.project_id) in admission.unstarted:
                starts.append((b.teacher_id, b.project_id, b.received_at))
            ratio = admission.ratios[b.project_id]
            if row.watched_at is None and watched_enough(row.state, ratio):
                row.watched_at = b.received_at
            passed = row.passed_at is not None or not course.has_assessment
            if row.watched_at and passed and row.completed_at is None:
                row.completed_at = b.received_at
                completed.append((row, b, course))
        else:
            row.refused += 1
            org = wanted[(b.teacher_id, b.course_id, b.project_id)][0]
            refusals[
                (b.project_id, org, b.received_at.astimezone(SHANGHAI).date(), verdict.outcome)
            ] += 1
        log.append(
            (
                b.teacher_id,
                b.project_id,
                b.course_id,
                b.session_id,
                b.position,
                json.dumps(b.segments),
                b.client_at,
                b.received_at,
                verdict.outcome,
                verdict.credited,
            )
        )
        results[i] = Outcome(
            outcome=verdict.outcome,
            course_id=b.course_id,
            credited_seconds=verdict.credited,
            watched_seconds=row.state.watched_seconds,
            video_seconds=row.state.video_seconds,
            watched=row.watched_at is not None,
            completed=row.completed_at is not None,
        )

    await repo.save_batch(
        session, viewers=viewers, rows=list(rows.values()), log=log, refusals=refusals
    )
    if starts:  # 开始学习: only a batch with a teacher's first progress pays this statement
        await start_study(session, starts)
    for row, b, course in completed:
        await complete(
            session,
            row=row,
            teacher_id=b.teacher_id,
            project_id=b.project_id,
            course=course,
            at=b.received_at,
        )
    return [r for r in results if r is not None]


async def complete(
    session: AsyncSession,
    *,
    row: ProgressRow,
    teacher_id: uuid.UUID,
    project_id: uuid.UUID,
    course: CourseInfo,
    at: datetime,
    score: int | None = None,
) -> None:
    """课程完成: watched enough and assessment passed; recorded once (keyed by the row id) and
    counted once per course (a provider may have reported it already: then it is an attempt
    that may raise the best score). A completion the project's windows refuse is logged, not
    raised: it must not undo the heartbeat batch it came in (the heartbeat itself was checked
    against the window when it arrived, so this is the rare day between the two checks)."""
    try:
        await record_completion(
            session,
            teacher_id=teacher_id,
            project_id=project_id,
            source="video",
            source_ref=str(row.id),
            completed_at=at,
            course_id=course.id,
            score=None if score is None else Decimal(score),
            now=at,
        )
    except (CompletionOutsideWindow, CompletedInFuture) as exc:
        log.warning("completion of course %s not counted: %s", course.id, exc)
