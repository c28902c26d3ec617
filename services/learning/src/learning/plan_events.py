"""学习计划 events for the dashboards (issue #18): PlanChanged when a plan is made or its status
or place changes, StudyStarted (开始学习) at the teacher's first progress in a project. Both are
written to learning's outbox in the transaction of the change; nothing commits here."""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, cast

from sqlalchemy.ext.asyncio import AsyncSession

from learning import repository as repo
from learning.attainment.events import OUTBOX
from learning.models import PlanStatus
from yanxiu.contracts.envelope import OrgPath
from yanxiu.contracts.learning import PlanChanged, StudyStarted

Start = tuple[uuid.UUID, uuid.UUID, datetime]  # teacher, project, when the progress came


@dataclass(frozen=True)
class PlanState:
    """A plan as PlanChanged carries it: two equal states are no change to tell."""

    teacher_id: uuid.UUID
    project_id: uuid.UUID
    project_year: int
    status: PlanStatus
    org: OrgPath

    @classmethod
    def of(cls, plan: Any) -> PlanState:
        """From a `Plan`, or a row with the plan's columns."""
        return cls(
            teacher_id=plan.teacher_id,
            project_id=plan.project_id,
            project_year=plan.project_year,
            status=cast(PlanStatus, plan.status),
            org=org_of(plan),
        )

    @property
    def key(self) -> tuple[uuid.UUID, uuid.UUID]:
        return self.teacher_id, self.project_id


def org_of(plan: Any) -> OrgPath:
    return OrgPath(
        province_id=plan.province_id,
        city_id=plan.city_id,
        county_id=plan.county_id,
        school_id=plan.school_id,
    )


def plan_changed(state: PlanState, *, at: datetime) -> PlanChanged:
    return PlanChanged(
        teacher_id=state.teacher_id,
        project_id=state.project_id,
        project_year=state.project_year,
        status=state.status,
        org=state.org,
        changed_at=at,
    )


def study_started(plan: Any) -> StudyStarted:
    """From a started `Plan`, or a row with the plan's columns and `started_at`."""
    return StudyStarted(
        teacher_id=plan.teacher_id,
        project_id=plan.project_id,
        project_year=plan.project_year,
        org=org_of(plan),
        started_at=plan.started_at,
    )


async def plans_changed(
    session: AsyncSession, states: Iterable[PlanState], *, at: datetime | None = None
) -> int:
    """PlanChanged for each plan as it stands now (the caller passes only real changes)."""
    when = at or datetime.now(UTC)
    events = [plan_changed(s, at=when) for s in states]
    await OUTBOX.add(session, *events)
    return len(events)


def changes(
    before: dict[tuple[uuid.UUID, uuid.UUID], PlanState], after: Iterable[PlanState]
) -> list[PlanState]:
    """The plans whose state differs from before (new ones included)."""
    return [s for s in after if before.get(s.key) != s]


async def start_study(session: AsyncSession, starts: Sequence[Start]) -> int:
    """开始学习: mark each plan started at its time unless it was started already, and write
    StudyStarted for those marked now. One conditional UPDATE (`started_at IS NULL`), so two
    transactions racing on a teacher's first progress cannot both write it: the second waits
    for the first's row lock, then finds the plan started. The earliest time of a pair wins."""
    first: dict[tuple[uuid.UUID, uuid.UUID], datetime] = {}
    for teacher_id, project_id, at in starts:
        key = (teacher_id, project_id)
        if key not in first or at < first[key]:
            first[key] = at
    if not first:
        return 0
    started = await repo.start_plans(session, [(t, p, at) for (t, p), at in sorted(first.items())])
    await OUTBOX.add(session, *(study_started(row) for row in started))
    return len(started)
