"""Events produced by the enrollment service (topic `enrollment.events.v1`, key: teacher id
or org id)."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from typing import ClassVar, Literal

from yanxiu.contracts.envelope import Event, OrgPath

ENROLLMENT_TOPIC = "enrollment.events.v1"
Stage = Literal["senior_high", "junior_high", "primary", "kindergarten"]


class TeacherEvent(Event):
    TOPIC: ClassVar[str] = ENROLLMENT_TOPIC
    KEY_FIELD: ClassVar[str] = "teacher_id"


# type: enrollment.teacher_registered  v1   key: teacher_id
# A teacher was registered by the school admin in a yearly training project (项目报名), for
# exactly one subject. Carries what learning and lessons need to build a plan or review pool.
class TeacherRegistered(TeacherEvent):
    TYPE: ClassVar[str] = "enrollment.teacher_registered"

    registration_id: uuid.UUID
    project_id: uuid.UUID
    project_year: int
    teacher_id: uuid.UUID
    teacher_name: str
    stage: Stage
    subject: str
    is_rural: bool
    org: OrgPath
    registered_at: datetime


# type: enrollment.teacher_withdrawn  v1   key: teacher_id
# A registration was withdrawn before the unit's list was submitted.
class TeacherWithdrawn(TeacherEvent):
    TYPE: ClassVar[str] = "enrollment.teacher_withdrawn"

    registration_id: uuid.UUID
    project_id: uuid.UUID
    teacher_id: uuid.UUID
    org: OrgPath
    withdrawn_at: datetime


# type: enrollment.project_opened  v1   key: project_id
# A yearly training project (培训项目) was created with its windows.
class ProjectOpened(Event):
    TYPE: ClassVar[str] = "enrollment.project_opened"
    TOPIC: ClassVar[str] = ENROLLMENT_TOPIC
    KEY_FIELD: ClassVar[str] = "project_id"

    project_id: uuid.UUID
    year: int
    stage: Stage
    name: str
    registration_opens_on: date
    registration_closes_on: date
