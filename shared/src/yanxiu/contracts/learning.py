"""Events produced by the learning service (topic `learning.events.v1`, key: teacher id).

Hours are decimals (JSON strings such as "1.5") so that sums stay exact in every consumer."""

from __future__ import annotations

import uuid
from datetime import datetime
from decimal import Decimal
from typing import ClassVar, Literal

from yanxiu.contracts.envelope import Event, OrgPath

LEARNING_TOPIC = "learning.events.v1"
CompletionSource = Literal["video", "provider", "xapi", "review", "school_based"]


class LearnerEvent(Event):
    TOPIC: ClassVar[str] = LEARNING_TOPIC
    KEY_FIELD: ClassVar[str] = "teacher_id"


# type: learning.course_completed  v1   key: teacher_id
# A teacher completed a course (课程完成) in a project: watched enough of it and passed its
# assessment, or a registered provider / xAPI statement reported it. `completion_id` is unique
# per completion and is the fact id a ledger keys on; `category` is the rule set's category
# (e.g. "subject_required", "general_elective"); `source_ref` is the provider's event id or the
# xAPI statement id when the completion came from outside.
class CourseCompleted(LearnerEvent):
    TYPE: ClassVar[str] = "learning.course_completed"

    completion_id: uuid.UUID
    teacher_id: uuid.UUID
    project_id: uuid.UUID
    project_year: int
    course_id: uuid.UUID | None
    course_title: str
    category: str
    hours: Decimal
    source: CompletionSource
    source_ref: str | None = None
    provider_id: str | None = None
    org: OrgPath
    completed_at: datetime


# type: learning.course_completion_revoked  v1   key: teacher_id
# A completion no longer counts (an xAPI statement was voided, a provider retracted it).
class CourseCompletionRevoked(LearnerEvent):
    TYPE: ClassVar[str] = "learning.course_completion_revoked"

    completion_id: uuid.UUID
    teacher_id: uuid.UUID
    project_id: uuid.UUID
    project_year: int
    reason: str
    org: OrgPath
    revoked_at: datetime


# type: learning.requirements_met  v1   key: teacher_id
# The teacher's counted hours satisfy every requirement of the project's rule set (完成学习任务).
# Emitted once per reaching the state; `hours_by_category` are the counted (capped) hours,
# `evaluation_id` identifies this evaluation (a ledger keys on project + teacher).
class RequirementsMet(LearnerEvent):
    TYPE: ClassVar[str] = "learning.requirements_met"

    evaluation_id: uuid.UUID
    teacher_id: uuid.UUID
    project_id: uuid.UUID
    project_year: int
    rule_set: str
    hours_by_category: dict[str, Decimal]
    total_hours: Decimal
    org: OrgPath
    met_at: datetime


# type: learning.requirements_unmet  v1   key: teacher_id
# A teacher who had met the requirements no longer does (a voided statement, a revoked review);
# `hours_by_category` are the counted hours after the change.
class RequirementsUnmet(LearnerEvent):
    TYPE: ClassVar[str] = "learning.requirements_unmet"

    evaluation_id: uuid.UUID
    teacher_id: uuid.UUID
    project_id: uuid.UUID
    project_year: int
    rule_set: str
    hours_by_category: dict[str, Decimal]
    total_hours: Decimal
    reason: str
    org: OrgPath
    unmet_at: datetime


EVENTS: list[type[Event]] = [
    CourseCompleted,
    CourseCompletionRevoked,
    RequirementsMet,
    RequirementsUnmet,
]
