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
    # Added in v1 (optional; None in older events: not known). The org that runs the project
    # (a province, or a city for a city-run programme) and the rule set the project names.
    project_owner_org_id: str | None = None
    rule_set: str | None = None


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
# A yearly training project (培训项目) was created with its windows, by the province or by the
# city that runs it (`owner_org_id`, whose org path from the province down is `owner_org_path`),
# naming the rule set it runs under (`rule_set`, e.g. "shandong-2023", "hefei-it2-2021"). The
# three were added in v1 as optional fields: None in older events means not known.
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
    owner_org_id: str | None = None
    owner_org_path: list[str] | None = None
    rule_set: str | None = None


# type: enrollment.teacher_created  v1   key: teacher_id
# A teacher record was added (教师信息采集) to a school. Never carries the ID number or phone.
class TeacherCreated(TeacherEvent):
    TYPE: ClassVar[str] = "enrollment.teacher_created"

    teacher_id: uuid.UUID
    teacher_name: str
    gender: str
    stage: Stage
    subject: str
    is_rural: bool
    status: Literal["active", "departed"]
    verified: bool
    org: OrgPath
    created_at: datetime


# type: enrollment.teacher_updated  v1   key: teacher_id
# A teacher record was corrected, supplemented or verified (校验/修正/补充); `changed_fields`
# names what changed (an ID number change shows as "id_number", never its value).
class TeacherUpdated(TeacherEvent):
    TYPE: ClassVar[str] = "enrollment.teacher_updated"

    teacher_id: uuid.UUID
    teacher_name: str
    changed_fields: list[str]
    stage: Stage
    subject: str
    is_rural: bool
    status: Literal["active", "departed"]
    verified: bool
    org: OrgPath
    updated_at: datetime


# type: enrollment.teacher_transferred  v1   key: teacher_id
# A teacher moved to another school (调动): by the admin covering both schools, or taken in from
# the departed pool (离职教师库) by the new school. `org` is the new place, as on every event.
class TeacherTransferred(TeacherEvent):
    TYPE: ClassVar[str] = "enrollment.teacher_transferred"

    teacher_id: uuid.UUID
    from_org: OrgPath
    to_org: OrgPath
    org: OrgPath
    from_departed_pool: bool
    stage: Stage
    subject: str
    transferred_at: datetime


# type: enrollment.teacher_departed  v1   key: teacher_id
# A teacher left (离职) and entered the departed pool; the record and its history are kept.
# `org` is the school the teacher left.
class TeacherDeparted(TeacherEvent):
    TYPE: ClassVar[str] = "enrollment.teacher_departed"

    teacher_id: uuid.UUID
    org: OrgPath
    stage: Stage
    subject: str
    departed_at: datetime


# type: enrollment.unit_submitted  v1   key: org_id
# A county or a city checked and submitted its registration list for a project (提交培训报名管理
# 任务); from now on that unit's list is locked. A city submits only after all its opened counties.
class UnitSubmitted(Event):
    TYPE: ClassVar[str] = "enrollment.unit_submitted"
    TOPIC: ClassVar[str] = ENROLLMENT_TOPIC
    KEY_FIELD: ClassVar[str] = "org_id"

    project_id: uuid.UUID
    level: Literal["county", "city"]
    org_id: str
    city_id: str
    submitted_by: str
    submitted_at: datetime


# type: enrollment.workshop_joined  v1   key: teacher_id
# A registered teacher joined the workshop (工作坊) of their stage and subject in a project.
class WorkshopJoined(TeacherEvent):
    TYPE: ClassVar[str] = "enrollment.workshop_joined"

    workshop_id: uuid.UUID
    project_id: uuid.UUID
    teacher_id: uuid.UUID
    stage: Stage
    subject: str | None
    workshop_level: Literal["province", "city", "county"]
    org: OrgPath
    joined_at: datetime
