"""The statements resource's query (xAPI 1.0.3 Communication 2.1.3) as data: its parameters read
and checked (pure functions; a bad one is a 400 `xapi_bad_query`), and the `format` applied to the
statements returned.

- agent: an Agent or identified Group as JSON; matches the statement's actor, or its object when
  that is an Agent or Group (with related_agents also the authority, the context's instructor and
  team, and a SubStatement's actor and object);
- activity: an IRI; matches the object's id (with related_activities also every context activity
  and a SubStatement's object and context activities);
- registration, verb, since, until, limit, ascending;
- format: exact (as stored), ids (agents and groups by identifier only, activities by id only) or
  canonical (every language map down to the one language the caller prefers, by
  Accept-Language).
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal, TypeVar

import orjson

from learning.providers import xapi_validation as xv
from learning.providers.errors import XapiBadQuery, XapiStatementInvalid

Format = Literal["exact", "ids", "canonical"]
T = TypeVar("T")
PARAMS = frozenset(
    {
        "statementId",
        "voidedStatementId",
        "agent",
        "verb",
        "activity",
        "registration",
        "related_activities",
        "related_agents",
        "since",
        "until",
        "limit",
        "format",
        "attachments",
        "ascending",
        "cursor",
    }
)
# With statementId or voidedStatementId, only these may be given as well.
WITH_AN_ID = frozenset({"statementId", "voidedStatementId", "attachments", "format"})
MAX_LIMIT = 500
LIMIT_INPUT_MAX = 999_999_999  # a larger limit is served as MAX_LIMIT
AGENT_MAX = 4096
CURSOR_MAX = 200


@dataclass(frozen=True)
class StatementQuery:
    agent: dict[str, Any] | None = None  # the identifier: {"mbox": ...}, {"account": {...}}
    verb: str | None = None
    activity: str | None = None
    registration: str | None = None
    related_activities: bool = False
    related_agents: bool = False
    since: datetime | None = None
    until: datetime | None = None
    limit: int = 100
    ascending: bool = False
    format: Format = "exact"
    attachments: bool = False


def _bad(zh: str, en: str) -> XapiBadQuery:
    return XapiBadQuery(zh, en)


def _boolean(params: Mapping[str, str], name: str) -> bool:
    raw = params.get(name)
    if raw is None:
        return False
    if raw not in ("true", "false"):
        raise _bad(f"{name} 须为 true 或 false", f"{name} must be true or false")
    return raw == "true"


def _checked(check: Callable[..., T], *args: Any) -> T:
    try:
        result = check(*args)
    except XapiStatementInvalid as exc:
        raise _bad(exc.detail_zh, exc.detail_en) from exc
    return result


def agent_identifier(raw: str) -> dict[str, Any]:
    """The `agent` parameter: an Agent or identified Group, as JSON; its identifier."""
    try:
        value = orjson.loads(raw)
    except orjson.JSONDecodeError as exc:
        raise _bad("agent 须为 JSON 格式的 Agent", "agent must be an Agent as JSON") from exc
    _checked(xv.actor, value, "agent")
    ifis = {k: value[k] for k in xv.IFIS if k in value}
    if not ifis:
        raise _bad("agent 须带标识 (mbox 等)", "agent must be identified (mbox, account…)")
    return ifis


def read_query(params: Mapping[str, str]) -> StatementQuery:
    unknown = sorted(set(params) - PARAMS)
    if unknown:
        raise XapiBadQuery(unsupported=unknown)
    fmt = params.get("format", "exact")
    if fmt not in ("exact", "ids", "canonical"):
        raise _bad("format 须为 exact、ids 或 canonical", "format is exact, ids or canonical")
    raw_limit = params.get("limit", "0")
    if not (raw_limit.isascii() and raw_limit.isdigit() and len(raw_limit) <= 9):
        raise _bad("limit 须为非负整数", "limit must be a whole number")
    limit = int(raw_limit)
    if len(params.get("agent", "")) > AGENT_MAX or len(params.get("cursor", "")) > CURSOR_MAX:
        raise _bad("参数过长", "A query parameter is too long")
    return StatementQuery(
        agent=agent_identifier(params["agent"]) if "agent" in params else None,
        verb=_checked(xv.iri, params["verb"], "verb") if "verb" in params else None,
        activity=_checked(xv.iri, params["activity"], "activity") if "activity" in params else None,
        registration=(
            _checked(xv.uuid_string, params["registration"], "registration").lower()
            if "registration" in params
            else None
        ),
        related_activities=_boolean(params, "related_activities"),
        related_agents=_boolean(params, "related_agents"),
        since=_checked(xv.timestamp, params["since"], "since") if "since" in params else None,
        until=_checked(xv.timestamp, params["until"], "until") if "until" in params else None,
        limit=min(limit, MAX_LIMIT) if limit else 100,
        ascending=_boolean(params, "ascending"),
        format=fmt,  # type: ignore[arg-type]
        attachments=_boolean(params, "attachments"),
    )


def statement_id(raw: str, name: str) -> uuid.UUID:
    return uuid.UUID(_checked(xv.uuid_string, raw, name))


def check_single(params: Mapping[str, str]) -> Format:
    """A statementId / voidedStatementId look-up: only attachments and format beside it."""
    others = sorted(set(params) - WITH_AN_ID)
    if others or ("statementId" in params and "voidedStatementId" in params):
        raise _bad(
            "按编号查询时只能带 attachments 与 format",
            "An id lookup takes only attachments and format",
        )
    query = read_query({k: v for k, v in params.items() if k in ("format", "attachments")})
    return query.format


# --- format -------------------------------------------------------------------------------------

AGENT_KINDS = ("Agent", "Group")


def formatted(statement: dict[str, Any], fmt: Format, languages: list[str]) -> dict[str, Any]:
    if fmt == "exact":
        return statement
    if fmt == "ids":
        return _ids(statement)
    return _canonical(statement, languages)


def _agent_ids(agent: Any) -> Any:
    if not isinstance(agent, dict):
        return agent
    out = {k: agent[k] for k in ("objectType", *xv.IFIS) if k in agent}
    if (
        agent.get("objectType") == "Group"
        and "member" in agent
        and not any(k in agent for k in xv.IFIS)
    ):
        out["member"] = [_agent_ids(m) for m in agent["member"]]
    return out


def _object_ids(obj: Any) -> Any:
    if not isinstance(obj, dict):
        return obj
    kind = obj.get("objectType", "Activity")
    if kind == "Activity":
        return {"id": obj.get("id")}
    if kind in AGENT_KINDS:
        return _agent_ids(obj)
    if kind == "SubStatement":
        return _ids(obj)
    return obj


def _ids(statement: dict[str, Any]) -> dict[str, Any]:
    out = dict(statement)
    if isinstance(out.get("verb"), dict):
        out["verb"] = {"id": out["verb"].get("id")}
    for part in ("actor", "authority"):
        if part in out:
            out[part] = _agent_ids(out[part])
    if "object" in out:
        out["object"] = _object_ids(out["object"])
    context = out.get("context")
    if isinstance(context, dict):
        context = dict(context)
        for part in ("instructor", "team"):
            if part in context:
                context[part] = _agent_ids(context[part])
        activities = context.get("contextActivities")
        if isinstance(activities, dict):
            context["contextActivities"] = {
                k: [_object_ids(a) for a in v] if isinstance(v, list) else _object_ids(v)
                for k, v in activities.items()
            }
        out["context"] = context
    return out


LANGUAGE_MAPS = frozenset({"display", "name", "description"})


def preferred_languages(accept_language: str | None) -> list[str]:
    """Accept-Language's tags, most preferred first (q-values honoured)."""
    ranked = []
    for i, part in enumerate((accept_language or "").split(",")):
        tag, _, params = part.strip().partition(";")
        if not tag:
            continue
        q = 1.0
        if params.strip().startswith("q="):
            try:
                q = float(params.strip()[2:])
            except ValueError:
                q = 0.0
        ranked.append((-q, i, tag.strip().lower()))
    return [tag for _, _, tag in sorted(ranked)]


def _one_language(language_map: dict[str, Any], languages: list[str]) -> dict[str, Any]:
    if not language_map:
        return language_map
    lowered = {k.lower(): k for k in language_map}
    for wanted in languages:
        if wanted == "*":
            break
        if wanted in lowered:
            key = lowered[wanted]
            return {key: language_map[key]}
        for have, key in lowered.items():  # zh matches zh-CN
            if have.split("-")[0] == wanted.split("-")[0]:
                return {key: language_map[key]}
    key = next(iter(language_map))
    return {key: language_map[key]}


def _canonical(value: Any, languages: list[str], key: str = "") -> Any:
    if isinstance(value, dict):
        if key in LANGUAGE_MAPS and all(isinstance(v, str) for v in value.values()):
            return _one_language(value, languages)
        if key == "extensions":
            return value
        return {k: _canonical(v, languages, k) for k, v in value.items()}
    if isinstance(value, list):
        return [_canonical(v, languages, key) for v in value]
    return value
