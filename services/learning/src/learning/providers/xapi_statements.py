"""xAPI 1.0.3 statements as data (pure functions): validation of the required parts, the
spec's comparison for conflicts, and how a completion statement maps onto a teacher, a project
and a course.

Mapping (documented for providers):
- actor: an Agent whose `account.homePage` is the configured home page and `account.name` the
  teacher id (UUID);
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

from learning.providers.errors import (
    XapiActorUnmapped,
    XapiProjectMissing,
    XapiStatementInvalid,
)

MAPPING_DOC = (
    " Completion statements (verb completed or passed, or result.completion true, unless "
    "result.success is false) count as course completions: actor = Agent with "
    "account.homePage = the platform's home page and account.name = teacher id; project = "
    "context.extensions[https://yanxiu.example/xapi/extensions/project-id] or "
    "context.registration; course = the activity id's last path segment as a catalogue course "
    "id or code, else definition.extensions .../hours and .../category (one of "
    "subject_required, subject_elective, general_required, general_elective, school_based) "
    "with definition.name as title. Voiding (verb http://adlnet.gov/expapi/verbs/voided, object "
    "StatementRef) revokes the voided statement's completion; a voiding statement cannot be "
    "voided."
)
VOIDED = "http://adlnet.gov/expapi/verbs/voided"
COMPLETION_VERBS = frozenset(
    {"http://adlnet.gov/expapi/verbs/completed", "http://adlnet.gov/expapi/verbs/passed"}
)
EXT = "https://yanxiu.example/xapi/extensions/"
PROJECT_EXT = EXT + "project-id"
HOURS_EXT = EXT + "hours"
CATEGORY_EXT = EXT + "category"

TOP_LEVEL = frozenset(
    {
        "id",
        "actor",
        "verb",
        "object",
        "result",
        "context",
        "timestamp",
        "stored",
        "authority",
        "version",
        "attachments",
    }
)
# Set by the LRS or allowed to differ between two sends of the same statement (spec §2.3).
IGNORED_IN_COMPARISON = ("id", "stored", "authority", "timestamp", "version")
IFIS = ("mbox", "mbox_sha1sum", "openid", "account")


def _bad(path: str, why: str) -> XapiStatementInvalid:
    return XapiStatementInvalid(f"{path}：{why}", f"{path}: {why}", field=path)


def _obj(value: Any, path: str) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise _bad(path, "must be an object")
    return value


def _iri(value: Any, path: str, max_length: int = 2048) -> str:
    if not isinstance(value, str) or ":" not in value or any(c.isspace() for c in value):
        raise _bad(path, "must be an IRI")
    if len(value) > max_length:
        raise _bad(path, f"is longer than {max_length} characters")
    return value


def parse_uuid(value: Any, path: str) -> uuid.UUID:
    if not isinstance(value, str):
        raise _bad(path, "must be a UUID")
    try:
        return uuid.UUID(value)
    except ValueError as exc:
        raise _bad(path, "must be a UUID") from exc


def parse_time(value: Any, path: str) -> datetime:
    if not isinstance(value, str):
        raise _bad(path, "must be an ISO 8601 timestamp")
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError as exc:
        raise _bad(path, "must be an ISO 8601 timestamp") from exc
    if parsed.tzinfo is None:
        raise _bad(path, "needs a time zone")
    return parsed


def _agent(value: Any, path: str) -> None:
    agent = _obj(value, path)
    kind = agent.get("objectType", "Agent")
    ifis = [k for k in IFIS if k in agent]
    if kind == "Group":
        members = agent.get("member")
        if not ifis and not isinstance(members, list):
            raise _bad(path, "an anonymous Group needs a member list")
        for i, member in enumerate(members or []):
            _agent(member, f"{path}.member[{i}]")
        return
    if kind != "Agent":
        raise _bad(f"{path}.objectType", "must be Agent or Group")
    if len(ifis) != 1:
        raise _bad(path, "needs exactly one of mbox, mbox_sha1sum, openid, account")
    if "mbox" in agent and not str(agent["mbox"]).startswith("mailto:"):
        raise _bad(f"{path}.mbox", "must be a mailto: IRI")
    if "account" in agent:
        account = _obj(agent["account"], f"{path}.account")
        _iri(account.get("homePage"), f"{path}.account.homePage")
        if not isinstance(account.get("name"), str) or not account["name"]:
            raise _bad(f"{path}.account.name", "is required")


def _object(value: Any, path: str, verb_id: str) -> None:
    obj = _obj(value, path)
    kind = obj.get("objectType", "Activity")
    if verb_id == VOIDED and kind != "StatementRef":
        raise _bad(f"{path}.objectType", "a voiding statement's object must be a StatementRef")
    if kind == "Activity":
        _iri(obj.get("id"), f"{path}.id")
        if "definition" in obj:
            _obj(obj["definition"], f"{path}.definition")
    elif kind == "StatementRef":
        parse_uuid(obj.get("id"), f"{path}.id")
    elif kind in ("Agent", "Group"):
        _agent(obj, path)
    elif kind == "SubStatement":
        for part in ("actor", "verb", "object"):
            if part not in obj:
                raise _bad(f"{path}.{part}", "is required")
        _agent(obj["actor"], f"{path}.actor")
    else:
        raise _bad(f"{path}.objectType", "unknown objectType")


def validate(statement: Any, path: str = "statement") -> dict[str, Any]:
    """Refuse what xAPI 1.0.3 requires an LRS to refuse (the parts that matter here)."""
    stmt = _obj(statement, path)
    unknown = sorted(set(stmt) - TOP_LEVEL)
    if unknown:
        raise _bad(f"{path}.{unknown[0]}", "unknown property")
    if "id" in stmt:
        parse_uuid(stmt["id"], f"{path}.id")
    for part in ("actor", "verb", "object"):
        if part not in stmt:
            raise _bad(f"{path}.{part}", "is required")
    _agent(stmt["actor"], f"{path}.actor")
    verb = _obj(stmt["verb"], f"{path}.verb")
    verb_id = _iri(verb.get("id"), f"{path}.verb.id", max_length=500)
    _object(stmt["object"], f"{path}.object", verb_id)
    if "result" in stmt:
        result = _obj(stmt["result"], f"{path}.result")
        for flag in ("completion", "success"):
            if flag in result and not isinstance(result[flag], bool):
                raise _bad(f"{path}.result.{flag}", "must be a boolean")
    if "context" in stmt:
        context = _obj(stmt["context"], f"{path}.context")
        if "registration" in context:
            parse_uuid(context["registration"], f"{path}.context.registration")
        if "extensions" in context:
            _obj(context["extensions"], f"{path}.context.extensions")
    if "timestamp" in stmt:
        parse_time(stmt["timestamp"], f"{path}.timestamp")
    if "version" in stmt and not str(stmt["version"]).startswith("1.0"):
        raise _bad(f"{path}.version", "must be 1.0.x")
    return stmt


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


def _teacher(statement: dict[str, Any], home_page: str) -> uuid.UUID:
    account = statement["actor"].get("account") or {}
    if str(account.get("homePage", "")).rstrip("/") != home_page.rstrip("/"):
        raise XapiActorUnmapped(expected_home_page=home_page)
    try:
        return uuid.UUID(str(account.get("name")))
    except ValueError as exc:
        raise XapiActorUnmapped(expected_home_page=home_page) from exc


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
    statement: dict[str, Any], *, home_page: str, completed_at: datetime
) -> CompletionFacts:
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
        teacher_id=_teacher(statement, home_page),
        project_id=_project(statement),
        course_key=str(obj["id"]).rstrip("/").rsplit("/", 1)[-1],
        title=_title(definition),
        category=str(category) if category is not None else None,
        hours=hours,
        completed_at=completed_at,
    )
