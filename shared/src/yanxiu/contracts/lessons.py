"""Events produced by the lessons service (优课, topic `lessons.events.v1`)."""

from __future__ import annotations

import uuid
from datetime import datetime
from decimal import Decimal
from typing import ClassVar, Literal

from yanxiu.contracts.envelope import Event, OrgPath

LESSONS_TOPIC = "lessons.events.v1"
AwardLevel = Literal["first", "second", "third", "provincial"]


# type: lessons.review_submitted  v1   key: reviewer_id (a teacher id)
# A teacher submitted a peer review (观评课) of an assigned city-level lesson. Learning credits
# the reviewer's subject required hours by the project's rule, once per `assignment_id`.
class ReviewSubmitted(Event):
    TYPE: ClassVar[str] = "lessons.review_submitted"
    TOPIC: ClassVar[str] = LESSONS_TOPIC
    KEY_FIELD: ClassVar[str] = "reviewer_id"

    review_id: uuid.UUID
    assignment_id: uuid.UUID
    reviewer_id: uuid.UUID
    lesson_id: uuid.UUID
    project_id: uuid.UUID
    project_year: int
    stage: str
    subject: str
    total_score: Decimal
    org: OrgPath
    submitted_at: datetime


# type: lessons.review_revoked  v1   key: reviewer_id
# A submitted review no longer counts (found invalid by an admin); learning re-evaluates.
class ReviewRevoked(Event):
    TYPE: ClassVar[str] = "lessons.review_revoked"
    TOPIC: ClassVar[str] = LESSONS_TOPIC
    KEY_FIELD: ClassVar[str] = "reviewer_id"

    review_id: uuid.UUID
    assignment_id: uuid.UUID
    reviewer_id: uuid.UUID
    project_id: uuid.UUID
    project_year: int
    reason: str
    org: OrgPath
    revoked_at: datetime


# type: lessons.lesson_awarded  v1   key: teacher_id (the lesson's author)
# A lesson received a city-level award (一/二/三等) or was selected as a provincial lesson
# (省级优课). Credits may turn it into credit by the region's rule.
class LessonAwarded(Event):
    TYPE: ClassVar[str] = "lessons.lesson_awarded"
    TOPIC: ClassVar[str] = LESSONS_TOPIC
    KEY_FIELD: ClassVar[str] = "teacher_id"

    award_id: uuid.UUID
    lesson_id: uuid.UUID
    teacher_id: uuid.UUID
    year: int
    award: AwardLevel
    lesson_title: str
    stage: str
    subject: str
    org: OrgPath
    awarded_at: datetime


PromotionLevel = Literal["school", "county", "city", "province"]


# type: lessons.lesson_submitted  v1   key: teacher_id (the lesson's author)
# A teacher's lesson entered the selection (晒课): the year's 优课 contest. A snapshot: a
# re-sent one (`yanxiu resync --from lessons`) is harmless.
class LessonSubmitted(Event):
    TYPE: ClassVar[str] = "lessons.lesson_submitted"
    TOPIC: ClassVar[str] = LESSONS_TOPIC
    KEY_FIELD: ClassVar[str] = "teacher_id"

    lesson_id: uuid.UUID
    teacher_id: uuid.UUID
    year: int
    lesson_title: str
    stage: str
    subject: str
    org: OrgPath
    submitted_at: datetime


# type: lessons.lesson_promoted  v1   key: teacher_id (the lesson's author)
# A lesson was selected at a level (逐级遴选: school, county, city, province). Once per lesson
# and level; a re-sent one carries the same `promoted_at`.
class LessonPromoted(Event):
    TYPE: ClassVar[str] = "lessons.lesson_promoted"
    TOPIC: ClassVar[str] = LESSONS_TOPIC
    KEY_FIELD: ClassVar[str] = "teacher_id"

    lesson_id: uuid.UUID
    teacher_id: uuid.UUID
    year: int
    level: PromotionLevel
    stage: str
    subject: str
    org: OrgPath
    promoted_at: datetime


# type: lessons.reviews_allocated  v1   key: county_id
# The peer-review load (观评课分配) of a project's schools in one county after an allocation
# run: for each school of the county whose teachers took part in the run, how many assignments
# its teachers hold in the project in all (every run so far, not only this one), at the
# teachers' current schools. One event per county and run (a few hundred per run, not one per
# assignment); a snapshot per school, so a re-sent one (`yanxiu resync --from lessons`) is
# harmless.
class ReviewsAllocated(Event):
    TYPE: ClassVar[str] = "lessons.reviews_allocated"
    TOPIC: ClassVar[str] = LESSONS_TOPIC
    KEY_FIELD: ClassVar[str] = "county_id"

    project_id: uuid.UUID
    project_year: int
    province_id: str
    city_id: str
    county_id: str
    schools: dict[str, int]
    allocated_at: datetime


EVENTS: list[type[Event]] = [
    ReviewSubmitted,
    ReviewRevoked,
    LessonAwarded,
    LessonSubmitted,
    LessonPromoted,
    ReviewsAllocated,
]
