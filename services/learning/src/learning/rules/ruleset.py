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
LateCompletions = Literal["refuse", "hold"]
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


# Roles of a project (Hefei IT 2.0: 教师学员, 学科教研组工作坊坊主, 学校管理员), each with its own
# hour buckets and tasks. Codes are fixed here (the migrations' CHECK lists them); what each
# role must do is the rule set's data.
RoleCode = Literal["teacher", "workshop_leader", "school_admin"]
ROLE_CODES: tuple[str, ...] = ("teacher", "workshop_leader", "school_admin")
TaskCode = Annotated[str, Field(pattern=r"^[a-z][a-z0-9_]*$", max_length=40)]


class RoleTask(_Frozen):
    """One task of a role (e.g. 整校推进方案): done when its material is submitted and passed
    by the school. It belongs to one of the role's buckets (网络研修 / 校本研修) and counts no
    hours of its own: the hours come from courses and the school's records."""

    code: TaskCode
    name: str = Field(max_length=200)
    bucket: Code
    evidence: str = Field(default="", max_length=500)


class ProjectRole(_Frozen):
    """角色: a role's own requirements; without `buckets` it has the rule set's."""

    code: RoleCode
    name: str = Field(max_length=100)
    buckets: list[Bucket] | None = Field(default=None, min_length=1, max_length=20)
    total_min_hours: Hours | None = None
    tasks: list[RoleTask] = Field(default_factory=list, max_length=30)


class AbilityCredits(_Frozen):
    """能力点认证: passed ability points of a catalogue (learning/data/abilities/*.json) earn
    credits, `credits_per_point` each unless `credits` names a point; at least `min_credits`
    are required."""

    catalogue: str = Field(pattern=r"^[a-z0-9][a-z0-9-]*$", max_length=60)
    min_credits: Hours
    credits_per_point: Hours
    credits: dict[Code, Hours] = Field(default_factory=dict, max_length=100)

    @model_validator(mode="after")
    def _known_points(self) -> AbilityCredits:
        from learning.abilities.catalogue import catalogues  # data only; no cycle

        found = catalogues().get(self.catalogue)
        if found is None:
            raise ValueError(f"no ability-point catalogue {self.catalogue}")
        stray = sorted(set(self.credits) - {p.code for p in found.points})
        if stray:
            raise ValueError(f"credits for points not in {self.catalogue}: {stray}")
        return self

    def worth(self, point: str) -> Decimal:
        return self.credits.get(point, self.credits_per_point)


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
    # A completion dated after its learning window (or the project's year) closed: refused,
    # or held for a school or county admin to accept or reject. Early ones are always refused.
    late_completions: LateCompletions = "refuse"
    # Hefei IT 2.0: roles with their own buckets and tasks (a plan's role defaults to
    # `default_role`), and ability points certified at school.
    roles: list[ProjectRole] = Field(default_factory=list, max_length=len(ROLE_CODES))
    default_role: RoleCode = "teacher"
    abilities: AbilityCredits | None = None

    @model_validator(mode="after")
    def _consistent(self) -> RuleSet:
        codes = [b.code for b in self.buckets]
        if len(set(codes)) != len(codes):
            raise ValueError("bucket codes must be unique")
        if len(self.mandatory_topics) > self.max_school_topics:
            raise ValueError("more mandatory topics than a school may choose")
        _check_roles(self)
        return self

    def role(self, code: str | None) -> ProjectRole | None:
        """The role `code` (the default role when None); None when the rules have no roles."""
        wanted = code or self.default_role
        return next((r for r in self.roles if r.code == wanted), None)

    def for_role(self, role: ProjectRole | None) -> RuleSet:
        """The hour requirements of `role`: its own buckets and total, else the rule set's."""
        if role is None or (role.buckets is None and role.total_min_hours is None):
            return self
        update: dict[str, object] = {}
        if role.buckets is not None:
            update["buckets"] = role.buckets
        if role.total_min_hours is not None:
            update["total_min_hours"] = role.total_min_hours
        return self.model_copy(update=update)

    def bucket_for(self, category: str, topic_id: str | None) -> Bucket | None:
        return next((b for b in self.buckets if b.takes(category, topic_id)), None)


def _check_roles(rules: RuleSet) -> None:
    codes = [r.code for r in rules.roles]
    if len(set(codes)) != len(codes):
        raise ValueError("role codes must be unique")
    if rules.roles and rules.default_role not in codes:
        raise ValueError("the default role must be one of the roles")
    for r in rules.roles:
        buckets = {b.code for b in (r.buckets or rules.buckets)}
        if len(buckets) != len(r.buckets or rules.buckets):
            raise ValueError(f"role {r.code}: bucket codes must be unique")
        tasks = [t.code for t in r.tasks]
        if len(set(tasks)) != len(tasks):
            raise ValueError(f"role {r.code}: task codes must be unique")
        stray = [t.code for t in r.tasks if t.bucket not in buckets]
        if stray:
            raise ValueError(f"role {r.code}: tasks {stray} name no bucket of the role")


@dataclass(frozen=True)
class Standing:
    """What a teacher brings to the evaluation besides completions (Hefei IT 2.0): their role
    in the project and the task and ability-point certifications the school passed."""

    role: str | None = None
    passed_tasks: frozenset[str] = frozenset()
    passed_points: frozenset[str] = frozenset()


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
    # With roles: the role evaluated; with ability points: the credits of the passed ones.
    role: str | None = None
    ability_credits: Decimal | None = None

    @property
    def met(self) -> bool:
        return not self.missing


def evaluate(
    rules: RuleSet, completions: Iterable[Credited], standing: Standing | None = None
) -> Evaluation:
    """How far a teacher's completions (and, where the rules have roles or ability points,
    their standing) go toward the rules (pure: no I/O)."""
    role = rules.role(standing.role if standing else None)
    rules = rules.for_role(role)
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
    _assessed_work(ev, rules, role, standing or Standing())
    return ev


def _assessed_work(
    ev: Evaluation, rules: RuleSet, role: ProjectRole | None, standing: Standing
) -> None:
    """A role's tasks and the ability credits (Hefei IT 2.0): both count no hours."""
    if role is not None:
        ev.role = role.code
        ev.missing.extend(
            f"{role.name}任务 task: {t.name} 未通过 not passed"
            for t in role.tasks
            if t.code not in standing.passed_tasks
        )
    if rules.abilities is not None:
        points = rules.abilities
        credits = sum((points.worth(p) for p in standing.passed_points), Decimal(0))
        ev.ability_credits = credits.quantize(TENTH)
        if credits < points.min_credits:
            ev.missing.append(
                f"能力点认证 ability credits: {ev.ability_credits}/{points.min_credits}"
            )


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
