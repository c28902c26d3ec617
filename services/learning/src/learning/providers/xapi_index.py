"""What the statement filters look statements up by (pure functions): each stored statement's
agents and activities as short keys, kept in indexed columns beside the statement, so that a
filtered page is an index range however many statements the LRS holds.

- An agent's key is its identifier (mbox, mbox_sha1sum, openid or account) as canonical JSON; an
  activity's key is its id. Keys are stored hashed (SHA-256, 32 hex digits), so that a long IRI
  never makes an index entry too large.
- `actor` and `object` serve the plain `agent` and `activity` filters; `related_agents` (actor,
  object, authority, instructor, team, group members, and the same inside a SubStatement) and
  `related_activities` (object, context activities, and the same inside a SubStatement) serve
  their `related_*` forms.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import Any

import orjson

IFIS = ("mbox", "mbox_sha1sum", "openid", "account")
CONTEXT_ACTIVITY_KINDS = ("parent", "grouping", "category", "other")


def agent_key(ifi: dict[str, Any]) -> str:
    """An agent's identifier as canonical JSON (sorted keys)."""
    return orjson.dumps(ifi, option=orjson.OPT_SORT_KEYS).decode()


def hashed(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()[:32]


def _agent(value: Any) -> str | None:
    if not isinstance(value, dict):
        return None
    ifi = {k: value[k] for k in IFIS if k in value}
    return hashed(agent_key(ifi)) if ifi else None


def _agents(value: Any) -> list[str]:
    """The agent or identified group and, for a group, its identified members."""
    if not isinstance(value, dict):
        return []
    found = [k for k in [_agent(value)] if k]
    members = value.get("member")
    if value.get("objectType") == "Group" and isinstance(members, list):
        found += [k for k in (_agent(m) for m in members) if k]
    return found


def _activity(value: Any) -> str | None:
    if isinstance(value, dict) and value.get("objectType", "Activity") == "Activity":
        activity_id = value.get("id")
        return hashed(activity_id) if isinstance(activity_id, str) else None
    return None


def _object(value: Any) -> str | None:
    if not isinstance(value, dict):
        return None
    kind = value.get("objectType", "Activity")
    if kind == "Activity":
        return _activity(value)
    if kind in ("Agent", "Group"):
        return _agent(value)
    return None


def _context_activities(context: Any) -> list[str]:
    if not isinstance(context, dict) or not isinstance(context.get("contextActivities"), dict):
        return []
    found = []
    for kind in CONTEXT_ACTIVITY_KINDS:
        listed = context["contextActivities"].get(kind) or []
        for activity in listed if isinstance(listed, list) else [listed]:
            key = _activity(activity if isinstance(activity, dict) else None)
            if key:
                found.append(key)
    return found


def _related(statement: dict[str, Any]) -> tuple[list[str], list[str]]:
    agents = _agents(statement.get("actor")) + _agents(statement.get("authority"))
    obj = statement.get("object")
    if isinstance(obj, dict) and obj.get("objectType") in ("Agent", "Group"):
        agents += _agents(obj)
    context = statement.get("context")
    if isinstance(context, dict):
        agents += _agents(context.get("instructor")) + _agents(context.get("team"))
    activities = [k for k in [_activity(obj)] if k] + _context_activities(context)
    if isinstance(obj, dict) and obj.get("objectType") == "SubStatement":
        inner_agents, inner_activities = _related(obj)
        agents += inner_agents
        activities += inner_activities
    return agents, activities


@dataclass(frozen=True)
class IndexKeys:
    actor: str | None
    object: str | None
    registration: str | None
    related_agents: list[str]
    related_activities: list[str]

    def columns(self) -> dict[str, Any]:
        return {
            "actor_key": self.actor,
            "object_key": self.object,
            "registration": self.registration,
            "related_agents": self.related_agents,
            "related_activities": self.related_activities,
        }


def index_keys(statement: dict[str, Any]) -> IndexKeys:
    agents, activities = _related(statement)
    context = statement.get("context")
    registration = context.get("registration") if isinstance(context, dict) else None
    return IndexKeys(
        actor=_agent(statement.get("actor")),
        object=_object(statement.get("object")),
        registration=registration.lower() if isinstance(registration, str) else None,
        related_agents=sorted(set(agents)),
        related_activities=sorted(set(activities)),
    )
