"""Events produced by the learning service (topic `learning.events.v1`, key: teacher id).

Hours are decimals (JSON strings such as "1.5") so that sums stay exact in every consumer."""

from __future__ import annotations

import hashlib
import unicodedata
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


# The longest course text kept readable in a course key; a longer one is hashed.
_READABLE = 120


def normalised(text: str) -> str:
    """A course code or title as compared for identity: NFKC, lower case, no whitespace (so
    "ＩＴ 2.0 提升" and "it2.0提升" are one course); a long one becomes its sha256."""
    flat = "".join(unicodedata.normalize("NFKC", text).lower().split())
    if len(flat) > _READABLE:
        return "sha256:" + hashlib.sha256(flat.encode()).hexdigest()
    return flat


def course_key_for(
    *,
    source: str,
    source_ref: str | None,
    course_id: uuid.UUID | None,
    provider_id: str | None,
    title: str,
    code: str | None = None,
) -> str:
    """课程标识: what "the same course" means, whatever channel reported it. A catalogue course
    is its id; a peer review (观评课) or a school's own record (校本研修) is that assignment or
    record; a provider's own course is the provider and its course code, or its normalised
    title when it has no code. At most one completion per (teacher, project, key) counts."""
    if course_id is not None:
        return f"course:{course_id}"
    if source in ("review", "school_based") and source_ref:
        return f"{source}:{source_ref}"
    owner = provider_id or "-"
    if code:
        return f"provider:{owner}:code:{normalised(code)}"
    return f"provider:{owner}:title:{normalised(title)}"


# type: learning.course_completed  v1   key: teacher_id
# A teacher completed a course (课程完成) in a project: watched enough of it and passed its
# assessment, or a registered provider / xAPI statement reported it. `completion_id` is unique
# per completion and is the fact id a ledger keys on; `category` is the rule set's category
# (e.g. "subject_required", "general_elective"); `source_ref` is the provider's event id or the
# xAPI statement id when the completion came from outside. `course_key` (added in v1, optional)
# is the course's identity (`course_key_for`): a course counts once per teacher and project,
# so a ledger keeps one live entry per key; events written before it have none
# (`counted_course()` derives it the same way from what they carry).
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
    course_key: str | None = None

    def counted_course(self) -> str:
        """The course identity: as sent, or for an older event derived from its fields (a
        provider's own course by title: older events do not carry its code)."""
        if self.course_key:
            return self.course_key
        return course_key_for(
            source=self.source,
            source_ref=self.source_ref,
            course_id=self.course_id,
            provider_id=self.provider_id,
            title=self.course_title,
        )


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


PlanStatus = Literal["active", "withdrawn", "departed"]


# type: learning.plan_changed  v1   key: teacher_id
# A teacher's learning plan in a project (学习计划) as it stands after a change: made active when
# the registration arrived, withdrawn (退出项目), departed (离职, suspended) or active again.
# A snapshot, not a delta: a re-sent one (`yanxiu resync --from learning`) is harmless.
class PlanChanged(LearnerEvent):
    TYPE: ClassVar[str] = "learning.plan_changed"

    teacher_id: uuid.UUID
    project_id: uuid.UUID
    project_year: int
    status: PlanStatus
    org: OrgPath
    changed_at: datetime


# type: learning.study_started  v1   key: teacher_id
# The teacher's first learning progress in a project (开始学习): the first accepted heartbeat or
# the first completion, whichever came first. Once per teacher and project; a re-sent one
# carries the same `started_at`.
class StudyStarted(LearnerEvent):
    TYPE: ClassVar[str] = "learning.study_started"

    teacher_id: uuid.UUID
    project_id: uuid.UUID
    project_year: int
    org: OrgPath
    started_at: datetime


EVENTS: list[type[Event]] = [
    CourseCompleted,
    CourseCompletionRevoked,
    RequirementsMet,
    RequirementsUnmet,
    PlanChanged,
    StudyStarted,
]
