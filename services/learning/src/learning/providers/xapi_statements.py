"""xAPI 1.0.3 statements as data (pure functions): validation of the required parts, the
spec's comparison for conflicts, and how a completion statement maps onto a teacher, a project
and a course.

Mapping (documented for providers):
- actor: an Agent whose `account.homePage` is the configured home page and `account.name` the
  teacher id (UUID), or an agent the provider linked to a teacher (`xapi_links`: the teacher
  is looked up by `xapi_mapping` and given to `completion_facts`);
- project: `context.extensions["https://yanxiu.example/xapi/extensions/project-id"]`, else
  `context.registration`;
- course: the activity id's last path segment is a catalogue course id or code
  (e.g. `https://yanxiu.example/xapi/courses/SD2023-ETH-01`); otherwise the activity's
  `definition.extensions` carry `.../hours` and `.../category` and `definition.name` the title.
A statement counts as a completion when its verb is completed or passed, or
`result.completion` is true, unless `result.success` is false.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from learning.providers import xapi_validation
from learning.providers.errors import (
    XapiActorUnmapped,
    XapiProjectMissing,
    XapiStatementInvalid,
)

MAPPING_DOC = (
    " Completion statements (verb completed or passed, or result.completion true, unless "
    "result.success is false) count as course completions: actor = Agent with "
    "account.homePage = the platform's home page and account.name = teacher id, or an agent "
    "the provider linked to a teacher (PUT /xapi/links); project = "
    "context.extensions[https://yanxiu.example/xapi/extensions/project-id] or "
    "context.registration; course = the activity id's last path segment as a catalogue course "
    "id or code, else definition.extensions .../hours and .../category (one of "
    "subject_required, subject_elective, general_required, general_elective, school_based) "
    "with definition.name as title. Voiding (verb http://adlnet.gov/expapi/verbs/voided, object "
    "StatementRef) revokes the voided statement's completion; a voiding statement cannot be "
    "voided."
)
VOIDED = xapi_validation.VOIDED
COMPLETION_VERBS = frozenset(
    {"http://adlnet.gov/expapi/verbs/completed", "http://adlnet.gov/expapi/verbs/passed"}
)
EXT = "https://yanxiu.example/xapi/extensions/"
PROJECT_EXT = EXT + "project-id"
HOURS_EXT = EXT + "hours"
CATEGORY_EXT = EXT + "category"

# Set by the LRS or allowed to differ between two sends of the same statement (spec §2.3).
IGNORED_IN_COMPARISON = ("id", "stored", "authority", "timestamp", "version")


def _bad(path: str, why: str) -> XapiStatementInvalid:
    return XapiStatementInvalid(f"{path}：{why}", f"{path}: {why}", field=path)


def validate(statement: Any, path: str = "statement") -> dict[str, Any]:
    """Refuse what xAPI 1.0.3 requires an LRS to refuse (`xapi_validation`)."""
    return xapi_validation.statement(statement, path)


def parse_time(value: Any, path: str) -> datetime:
    """An ISO 8601 timestamp as an instant in UTC (400 when it is not one)."""
    return xapi_validation.timestamp(value, path)


def normalized(statement: dict[str, Any]) -> dict[str, Any]:
    """As the LRS keeps and returns it: every context activity list an array (a single
    activity sent alone becomes a list of one), in the statement and in a SubStatement."""
    out = dict(statement)
    context = out.get("context")
    if isinstance(context, dict) and isinstance(context.get("contextActivities"), dict):
        activities = context["contextActivities"]
        out["context"] = {
            **context,
            "contextActivities": {
                k: v if isinstance(v, list) else [v] for k, v in activities.items()
            },
        }
    inner = out.get("object")
    if isinstance(inner, dict) and inner.get("objectType") == "SubStatement":
        out["object"] = normalized(inner)
    return out


AUTHORITY_SUFFIX = "/providers"


def home_page_of(stored: dict[str, Any]) -> str:
    """The platform's home page as it was when the LRS stored the statement: its authority's
    account home page, less the suffix the LRS adds (see `xapi_service.authority`)."""
    account = (stored.get("authority") or {}).get("account") or {}
    return str(account.get("homePage", "")).removesuffix(AUTHORITY_SUFFIX)


def comparable(statement: dict[str, Any]) -> dict[str, Any]:
    """The statement without what the spec says to ignore when comparing two of them."""
    return {k: v for k, v in statement.items() if k not in IGNORED_IN_COMPARISON}


def same_statement(a: dict[str, Any], b: dict[str, Any]) -> bool:
    return comparable(a) == comparable(b)


def verb_of(statement: dict[str, Any]) -> str:
    return str(statement["verb"]["id"])


def voided_target(statement: dict[str, Any]) -> uuid.UUID | None:
    if verb_of(statement) != VOIDED:
        return None
    return uuid.UUID(statement["object"]["id"])


def is_completion(statement: dict[str, Any]) -> bool:
    result = statement.get("result") or {}
    if result.get("success") is False or verb_of(statement) == VOIDED:
        return False
    if statement["object"].get("objectType", "Activity") != "Activity":
        return False
    return verb_of(statement) in COMPLETION_VERBS or result.get("completion") is True


@dataclass(frozen=True)
class CompletionFacts:
    teacher_id: uuid.UUID
    project_id: uuid.UUID
    course_key: str
    title: str | None
    category: str | None
    hours: Decimal | None
    completed_at: datetime
    score: Decimal | None = None


def is_platform_account(agent: dict[str, Any], home_page: str) -> bool:
    """An agent identified by an account of the platform (its teacher id is `account.name`)."""
    account = agent.get("account")
    if not isinstance(account, dict):
        return False
    return str(account.get("homePage", "")).rstrip("/") == home_page.rstrip("/")


# What a waiting statement's provider reads in `GET /xapi/mappings`: how to make it count.
ACTOR_UNMAPPED = (
    "完成语句的 actor 须为教师账号（account.homePage 与教师编号），或由机构关联到教师的学员"
    "（PUT /xapi/links）",
    "The actor must be a teacher account (account.homePage and the teacher id), or an agent "
    "the provider linked to a teacher (PUT /xapi/links)",
)


def _teacher(statement: dict[str, Any], home_page: str) -> uuid.UUID:
    account = statement["actor"].get("account") or {}
    if not is_platform_account(statement["actor"], home_page):
        raise XapiActorUnmapped(*ACTOR_UNMAPPED, expected_home_page=home_page)
    try:
        return uuid.UUID(str(account.get("name")))
    except ValueError as exc:
        raise XapiActorUnmapped(*ACTOR_UNMAPPED, expected_home_page=home_page) from exc


def _project(statement: dict[str, Any]) -> uuid.UUID:
    context = statement.get("context") or {}
    raw = (context.get("extensions") or {}).get(PROJECT_EXT) or context.get("registration")
    if not raw:
        raise XapiProjectMissing(extension=PROJECT_EXT)
    try:
        return uuid.UUID(str(raw))
    except ValueError as exc:
        raise XapiProjectMissing(extension=PROJECT_EXT) from exc


def _title(definition: dict[str, Any]) -> str | None:
    names = definition.get("name")
    if not isinstance(names, dict) or not names:
        return None
    for lang in ("zh-CN", "zh", "en-US", "en"):
        if isinstance(names.get(lang), str):
            return str(names[lang])[:200]
    return str(next(iter(names.values())))[:200]


def _number(value: Any) -> Decimal | None:
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        return None
    try:
        number = Decimal(str(value))
    except InvalidOperation:
        return None
    return number if number.is_finite() else None


def score_of(statement: dict[str, Any]) -> Decimal | None:
    """`result.score` as a percentage (0–100, one decimal): `scaled` × 100, else `raw` within
    `min`…`max` (default 0…100). None when there is no usable score."""
    result = statement.get("result")
    score = result.get("score") if isinstance(result, dict) else None
    if not isinstance(score, dict):
        return None
    scaled = _number(score.get("scaled"))
    if scaled is not None:
        percent = scaled * 100
    else:
        raw = _number(score.get("raw"))
        low = _number(score.get("min")) or Decimal(0)
        high = _number(score.get("max"))
        high = Decimal(100) if high is None else high
        if raw is None or high <= low:
            return None
        percent = (raw - low) / (high - low) * 100
    return min(max(percent, Decimal(0)), Decimal(100)).quantize(Decimal("0.1"))


def completion_facts(
    statement: dict[str, Any],
    *,
    home_page: str,
    completed_at: datetime,
    teacher_id: uuid.UUID | None = None,
) -> CompletionFacts:
    """What a completion statement says; `teacher_id`: the teacher the provider linked the
    actor to (an account link), else the actor must be a platform account."""
    obj = statement["object"]
    definition = obj.get("definition") or {}
    extensions = definition.get("extensions")
    extensions = extensions if isinstance(extensions, dict) else {}
    raw_hours = extensions.get(HOURS_EXT)
    try:
        hours = None if raw_hours is None else Decimal(str(raw_hours))
    except InvalidOperation as exc:
        raise _bad("statement.object.definition.extensions", "hours must be a number") from exc
    if hours is not None and (not hours.is_finite() or hours != hours.quantize(Decimal("0.1"))):
        raise _bad("statement.object.definition.extensions", "hours: a number with one decimal")
    category = extensions.get(CATEGORY_EXT)
    return CompletionFacts(
        score=score_of(statement),
        teacher_id=teacher_id if teacher_id is not None else _teacher(statement, home_page),
        project_id=_project(statement),
        course_key=str(obj["id"]).rstrip("/").rsplit("/", 1)[-1],
        title=_title(definition),
        category=str(category) if category is not None else None,
        hours=hours,
        completed_at=completed_at,
    )
