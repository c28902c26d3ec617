"""A project's rule set (学习规则) as data, and the pure evaluation of a teacher against it.

A rule set is a list of requirement buckets. Every completion (a course, a peer review) has a
category; it counts in the first bucket that takes its category (and topic, when the bucket
names topics). A bucket counts at most `max_hours`; hours above it are kept but not counted.
Inside a bucket a category may have its own floor and cap. Each peer review ("review") is worth
the rule set's `review_hours`, and at most `max_reviews` count. The teacher meets the rules
when every bucket (and category floor) is reached, every compulsory course is completed and
the counted total reaches `total_min_hours`."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

TENTH = Decimal("0.1")
WindowName = Literal["selection", "learning", "subject_required"]
WINDOW_NAMES_ZH: dict[str, str] = {
    "selection": "选课",
    "learning": "课程学习",
    "subject_required": "学科必修课程学习",
}


# Bounds of a posted document: a five-year cycle is 450 h, so no requirement reaches 1,000.
MAX_HOURS = 1000
Hours = Annotated[Decimal, Field(ge=0, le=MAX_HOURS)]
Code = Annotated[str, Field(max_length=40)]
CourseCode = Annotated[str, Field(max_length=60)]


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class DateWindow(_Frozen):
    """Opening and closing days, inclusive: "MM-DD" (in the project's year) or "YYYY-MM-DD"."""

    opens: str = Field(max_length=10, pattern=r"^(\d{4}-)?\d{2}-\d{2}$")
    closes: str = Field(max_length=10, pattern=r"^(\d{4}-)?\d{2}-\d{2}$")

    def resolve(self, year: int) -> tuple[date, date]:
        def day(s: str) -> date:
            return date.fromisoformat(s if len(s) == 10 else f"{year}-{s}")

        return day(self.opens), day(self.closes)

    @model_validator(mode="after")
    def _valid_days(self) -> DateWindow:
        opens, closes = self.resolve(2024)  # a leap year: 02-29 is a valid month-day
        if len(self.opens) == len(self.closes) and opens > closes:
            raise ValueError("a window must not close before it opens")
        return self


class Bucket(_Frozen):
    """One requirement: the hours of some categories (and topics) with a floor and a cap."""

    code: str = Field(pattern=r"^[a-z][a-z0-9_]*$", max_length=40)
    name: str = Field(max_length=200)
    categories: list[Code] = Field(min_length=1, max_length=20)
    topics: list[Code] = Field(default_factory=list, max_length=50)
    min_hours: Hours
    max_hours: Hours | None = None
    compulsory_courses: list[CourseCode] = Field(default_factory=list, max_length=100)
    # e.g. 2020's subject course: reviews 9 h (3 × 3 h) and one provincial lesson 1 h, neither
    # standing in for the other.
    category_min_hours: dict[Code, Hours] = Field(default_factory=dict, max_length=20)
    category_max_hours: dict[Code, Hours] = Field(default_factory=dict, max_length=20)

    def takes(self, category: str, topic_id: str | None) -> bool:
        if category not in self.categories:
            return False
        return not self.topics or topic_id in self.topics


class RuleSet(_Frozen):
    """One project's rules. Shipped sets live in learning/data/rulesets/*.json; a province
    admin may post a new one for a new year without any code change."""

    code: str = Field(pattern=r"^[a-z0-9][a-z0-9-]*$", max_length=60)
    name: str = Field(max_length=200)
    buckets: list[Bucket] = Field(min_length=1, max_length=20)
    total_min_hours: Hours
    total_max_hours: Hours | None = None
    # 选课: the hours a teacher's selected electives must fit in, and the school's topic choice.
    elective_categories: list[Code] = Field(
        default_factory=lambda: ["general_elective"], max_length=20
    )
    elective_min_hours: Hours = Decimal(0)
    elective_max_hours: Hours | None = None
    max_school_topics: int = Field(default=6, ge=0, le=50)
    mandatory_topics: list[Code] = Field(default_factory=list, max_length=50)
    # 观评课: hours credited per peer review and how many reviews count at most.
    review_hours: Decimal = Field(default=Decimal(1), ge=0, le=100)
    max_reviews: int = Field(default=3, ge=0, le=100)
    watch_ratio: float = Field(default=0.95, gt=0, le=1)
    credits_min: int | None = Field(default=None, ge=0, le=MAX_HOURS)
    credits_max: int | None = Field(default=None, ge=0, le=MAX_HOURS)
    windows: dict[WindowName, DateWindow] = Field(default_factory=dict, max_length=3)

    @model_validator(mode="after")
    def _consistent(self) -> RuleSet:
        codes = [b.code for b in self.buckets]
        if len(set(codes)) != len(codes):
            raise ValueError("bucket codes must be unique")
        if len(self.mandatory_topics) > self.max_school_topics:
            raise ValueError("more mandatory topics than a school may choose")
        return self

    def bucket_for(self, category: str, topic_id: str | None) -> Bucket | None:
        return next((b for b in self.buckets if b.takes(category, topic_id)), None)


@dataclass(frozen=True)
class Credited:
    """One live completion as the evaluator sees it."""

    category: str
    hours: Decimal
    topic_id: str | None = None
    course_code: str | None = None


@dataclass
class Evaluation:
    recorded: dict[str, Decimal] = field(default_factory=dict)
    counted: dict[str, Decimal] = field(default_factory=dict)
    missing: list[str] = field(default_factory=list)
    uncounted_hours: Decimal = Decimal(0)
    total: Decimal = Decimal(0)

    @property
    def met(self) -> bool:
        return not self.missing


def evaluate(rules: RuleSet, completions: Iterable[Credited]) -> Evaluation:
    """How far a teacher's completions go toward the rules (pure: no I/O)."""
    ev = Evaluation(recorded={b.code: Decimal(0) for b in rules.buckets})
    by_category: dict[str, dict[str, Decimal]] = {b.code: {} for b in rules.buckets}
    done_courses: set[str] = set()
    reviews = 0
    for c in completions:
        hours = c.hours
        if c.category == "review":
            reviews += 1
            if reviews > rules.max_reviews:
                continue
            hours = rules.review_hours
        bucket = rules.bucket_for(c.category, c.topic_id)
        if bucket is None:
            ev.uncounted_hours += hours
            continue
        ev.recorded[bucket.code] += hours
        cats = by_category[bucket.code]
        cats[c.category] = cats.get(c.category, Decimal(0)) + hours
        if c.course_code:
            done_courses.add(c.course_code)
    for b in rules.buckets:
        _count_bucket(ev, b, by_category[b.code], done_courses)
    total = sum(ev.counted.values(), Decimal(0))
    if rules.total_max_hours is not None:
        total = min(total, rules.total_max_hours)
    ev.total = total.quantize(TENTH)
    if total < rules.total_min_hours:
        ev.missing.append(f"总学时 total: {total}/{rules.total_min_hours} h")
    return ev


def _count_bucket(
    ev: Evaluation, b: Bucket, cats: dict[str, Decimal], done_courses: set[str]
) -> None:
    got = sum((min(h, b.category_max_hours.get(c, h)) for c, h in cats.items()), Decimal(0))
    capped = min(got, b.max_hours) if b.max_hours is not None else got
    ev.counted[b.code] = capped.quantize(TENTH)  # "3.0": one figure per bucket, as stored
    if ev.counted[b.code] < b.min_hours:
        ev.missing.append(f"{b.name}: {ev.counted[b.code]}/{b.min_hours} h")
    for cat, floor in b.category_min_hours.items():
        have = min(cats.get(cat, Decimal(0)), b.category_max_hours.get(cat, floor))
        if have < floor:
            ev.missing.append(f"{b.name} / {cat}: {have}/{floor} h")
    ev.missing.extend(
        f"{b.name}: 必修课程 {code} 未完成"
        for code in b.compulsory_courses
        if code not in done_courses
    )
