"""What xAPI 1.0.3 (Data, part two) requires an LRS to refuse, checked before anything is stored
(pure functions; every refusal is `XapiStatementInvalid`, a 400 naming the property's path).

- Every object has only the properties the spec names for it, with the spec's case; values have
  the spec's types; `null` is refused everywhere but as an extension's value.
- Agents use exactly one identifier (mbox as `mailto:` address, mbox_sha1sum as 40 hex digits,
  openid, or account with homePage and name); an anonymous Group lists its members, which are
  Agents; an identified Group has exactly one identifier.
- UUIDs in their standard string form; IRIs with a scheme; language maps keyed by RFC 5646 tags;
  timestamps in ISO 8601 with a time of day (and not the offset `-00:00`, which RFC 3339
  reserves for "unknown"), within the years 1…9999 once moved to UTC; durations in ISO 8601.
- A SubStatement has no id, stored, version or authority, and no SubStatement inside it;
  `context.revision` and `context.platform` only when the object is an Activity; an interaction
  type when an activity definition describes an interaction; score values within their range.
- An authority is an Agent, or (OAuth 3-legged) a Group of exactly two Agents.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Iterable
from datetime import UTC, datetime, timedelta
from typing import Any

from learning.providers.errors import XapiStatementInvalid

_HEX = "[0-9a-fA-F]"
UUID_RE = re.compile(rf"^{_HEX}{{8}}-{_HEX}{{4}}-{_HEX}{{4}}-{_HEX}{{4}}-{_HEX}{{12}}$")
IRI_RE = re.compile(r"^[A-Za-z][A-Za-z0-9+.\-]*:[^\s]*$")
MAILTO_RE = re.compile(r"^mailto:[^@\s]+@[^@\s]+$")
SHA1_RE = re.compile(r"^[0-9a-fA-F]{40}$")
_TOKEN = r"[A-Za-z0-9][A-Za-z0-9!#$&^_.+\-]*"
MIME_RE = re.compile(rf"^{_TOKEN}/{_TOKEN}(\s*;.*)?$")
# RFC 5646 language tags: langtag, private use, and the irregular grandfathered tags.
_LANGTAG = (
    r"(?:[A-Za-z]{2,3}(?:-[A-Za-z]{3}){0,3}|[A-Za-z]{4}|[A-Za-z]{5,8})"  # language, extlang
    r"(?:-[A-Za-z]{4})?"  # script
    r"(?:-(?:[A-Za-z]{2}|[0-9]{3}))?"  # region
    r"(?:-(?:[A-Za-z0-9]{5,8}|[0-9][A-Za-z0-9]{3}))*"  # variants
    r"(?:-[0-9A-WY-Za-wy-z](?:-[A-Za-z0-9]{2,8})+)*"  # extensions
    r"(?:-x(?:-[A-Za-z0-9]{1,8})+)?"  # private use
)
LANGUAGE_TAG_RE = re.compile(
    rf"^(?:{_LANGTAG}|x(?:-[A-Za-z0-9]{{1,8}})+"
    r"|en-GB-oed|i-ami|i-bnn|i-default|i-enochian|i-hak|i-klingon|i-lux|i-mingo|i-navajo"
    r"|i-pwn|i-tao|i-tay|i-tsu|sgn-BE-FR|sgn-BE-NL|sgn-CH-DE)$"
)
TIMESTAMP_RE = re.compile(
    r"^(?P<date>\d{4}-\d{2}-\d{2})T(?P<h>\d{2}):(?P<m>\d{2})(?::(?P<s>\d{2})(?:[.,](?P<f>\d+))?)?"
    r"(?P<tz>Z|[+-]\d{2}(?::?\d{2})?)?$"
)
_NUM = r"\d+(?:[.,]\d+)?"
DURATION_RE = re.compile(
    rf"^P(?:(?:{_NUM}Y)?(?:{_NUM}M)?(?:{_NUM}D)?(?:T(?:{_NUM}H)?(?:{_NUM}M)?(?:{_NUM}S)?)?"
    rf"|{_NUM}W)$"
)
VERSION_RE = re.compile(r"^1\.0(?:\.\d+)?$")
INTERACTION_TYPES = frozenset(
    {
        "true-false",
        "choice",
        "fill-in",
        "long-fill-in",
        "matching",
        "performance",
        "sequencing",
        "likert",
        "numeric",
        "other",
    }
)
INTERACTION_PARTS = ("choices", "scale", "source", "target", "steps")
CONTEXT_ACTIVITY_KINDS = frozenset({"parent", "grouping", "category", "other"})
IFIS = ("mbox", "mbox_sha1sum", "openid", "account")

STATEMENT_KEYS = frozenset(
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
SUBSTATEMENT_KEYS = frozenset(
    {"objectType", "actor", "verb", "object", "result", "context", "timestamp", "attachments"}
)
AGENT_KEYS = frozenset({"objectType", "name", *IFIS})
GROUP_KEYS = AGENT_KEYS | {"member"}


def bad(path: str, why: str) -> XapiStatementInvalid:
    return XapiStatementInvalid(f"{path}：{why}", f"{path}: {why}", field=path)


def obj(value: Any, path: str, keys: Iterable[str] | None = None) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise bad(path, "must be an object")
    if keys is not None:
        unknown = sorted(set(value) - set(keys))
        if unknown:
            raise bad(f"{path}.{unknown[0]}", "is not a property of this object")
    return value


def string(value: Any, path: str, *, max_length: int | None = None) -> str:
    if not isinstance(value, str):
        raise bad(path, "must be a string")
    if max_length is not None and len(value) > max_length:
        raise bad(path, f"is longer than {max_length} characters")
    return value


def iri(value: Any, path: str, *, max_length: int = 2048) -> str:
    if not isinstance(value, str) or not IRI_RE.match(value):
        raise bad(path, "must be an IRI (with a scheme, no spaces)")
    if len(value) > max_length:
        raise bad(path, f"is longer than {max_length} characters")
    return value


def uuid_string(value: Any, path: str) -> str:
    if not isinstance(value, str) or not UUID_RE.match(value):
        raise bad(path, "must be a UUID in its standard string form")
    return value


def boolean(value: Any, path: str) -> bool:
    if not isinstance(value, bool):
        raise bad(path, "must be a boolean")
    return value


def number(value: Any, path: str) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise bad(path, "must be a number")
    if not math.isfinite(float(value)):
        raise bad(path, "must be a finite number")
    return float(value)


def language_tag(value: Any, path: str) -> str:
    if not isinstance(value, str) or not LANGUAGE_TAG_RE.match(value):
        raise bad(path, "must be an RFC 5646 language tag")
    return value


def language_map(value: Any, path: str) -> None:
    for tag, text in obj(value, path).items():
        language_tag(tag, f"{path}[{tag!r}]")
        string(text, f"{path}.{tag}")


def extensions(value: Any, path: str) -> None:
    """Keys are IRIs; values are anything JSON can hold, null included."""
    for key in obj(value, path):
        iri(key, f"{path}[{key!r}]")


def timestamp(value: Any, path: str) -> datetime:
    """An ISO 8601 date and time (no time zone: UTC); the instant it names, in UTC."""
    if not isinstance(value, str):
        raise bad(path, "must be an ISO 8601 timestamp")
    m = TIMESTAMP_RE.match(value)
    if m is None:
        raise bad(path, "must be an ISO 8601 timestamp")
    tz = m["tz"] or "Z"
    if tz.startswith("-") and not tz[1:].replace(":", "").strip("0"):
        raise bad(path, "the offset -00:00 means an unknown offset: not allowed")
    try:
        local = datetime.fromisoformat(
            f"{m['date']}T{m['h']}:{m['m']}:{m['s'] or '00'}" + (f".{m['f'][:6]}" if m["f"] else "")
        )
        offset = timedelta(0)
        if tz != "Z":
            digits = tz[1:].replace(":", "")
            hours, minutes = int(digits[:2]), int(digits[2:4] or 0)
            if hours > 23 or minutes > 59:
                raise ValueError("offset out of range")
            offset = timedelta(hours=hours, minutes=minutes) * (1 if tz[0] == "+" else -1)
        return (local - offset).replace(tzinfo=UTC)
    except (ValueError, OverflowError) as exc:
        raise bad(path, "is not a date and time within the years 1 to 9999") from exc


def duration(value: Any, path: str) -> str:
    if (
        not isinstance(value, str)
        or not DURATION_RE.match(value)
        or value in ("P", "PT")
        or value.endswith("T")
    ):
        raise bad(path, "must be an ISO 8601 duration (e.g. PT1H30M)")
    return value


def array(
    value: Any, path: str, check: Callable[[Any, str], Any], *, nonempty: bool = False
) -> None:
    if not isinstance(value, list):
        raise bad(path, "must be an array")
    if nonempty and not value:
        raise bad(path, "must not be empty")
    for i, item in enumerate(value):
        check(item, f"{path}[{i}]")


# --- actors -------------------------------------------------------------------------------------


def account(value: Any, path: str) -> None:
    acc = obj(value, path, ("homePage", "name"))
    if "homePage" not in acc:
        raise bad(f"{path}.homePage", "is required")
    iri(acc["homePage"], f"{path}.homePage")
    if "name" not in acc:
        raise bad(f"{path}.name", "is required")
    string(acc["name"], f"{path}.name")


def identifiers(actor: dict[str, Any], path: str) -> list[str]:
    used = [k for k in IFIS if k in actor]
    if "mbox" in actor:
        mbox = actor["mbox"]
        if not isinstance(mbox, str) or not MAILTO_RE.match(mbox):
            raise bad(f"{path}.mbox", "must be mailto: and an email address")
    if "mbox_sha1sum" in actor:
        digest = actor["mbox_sha1sum"]
        if not isinstance(digest, str) or not SHA1_RE.match(digest):
            raise bad(f"{path}.mbox_sha1sum", "must be a SHA-1 hex digest")
    if "openid" in actor:
        iri(actor["openid"], f"{path}.openid")
    if "account" in actor:
        account(actor["account"], f"{path}.account")
    if len(used) > 1:
        raise bad(path, "uses more than one of mbox, mbox_sha1sum, openid, account")
    return used


def agent(value: Any, path: str, *, explicit: bool = False) -> None:
    """An Agent; `explicit`: objectType must be given (an Agent as a statement's object)."""
    who = obj(value, path, AGENT_KEYS)
    kind = who.get("objectType")
    if kind is None and explicit:
        raise bad(f"{path}.objectType", "is required")
    if kind is not None and kind != "Agent":
        raise bad(f"{path}.objectType", "must be Agent")
    if "name" in who:
        string(who["name"], f"{path}.name")
    if not identifiers(who, path):
        raise bad(path, "needs one of mbox, mbox_sha1sum, openid, account")


def group(value: Any, path: str) -> None:
    who = obj(value, path, GROUP_KEYS)
    if who.get("objectType") != "Group":
        raise bad(f"{path}.objectType", "must be Group")
    if "name" in who:
        string(who["name"], f"{path}.name")
    identified = identifiers(who, path)
    if "member" in who:
        array(who["member"], f"{path}.member", agent, nonempty=not identified)
    elif not identified:
        raise bad(f"{path}.member", "an anonymous Group lists its members")


def actor(value: Any, path: str, *, explicit: bool = False) -> None:
    kind = obj(value, path).get("objectType")
    if kind == "Group":
        group(value, path)
    elif kind is None or kind == "Agent":
        agent(value, path, explicit=explicit)
    else:
        raise bad(f"{path}.objectType", "must be Agent or Group")


def authority(value: Any, path: str) -> None:
    """An Agent, or an anonymous Group of exactly two Agents (OAuth 3-legged: the application,
    identified by an account, and the user)."""
    kind = obj(value, path).get("objectType")
    if kind == "Group":
        group(value, path)
        if any(k in value for k in IFIS):
            raise bad(path, "an authority Group is anonymous")
        members = value.get("member")
        if not isinstance(members, list) or len(members) != 2:
            raise bad(f"{path}.member", "an authority Group has exactly two Agents")
        if not any("account" in m for m in members):
            raise bad(f"{path}.member", "one of an authority Group's Agents is the OAuth app")
    else:
        agent(value, path)


# --- verb, object -------------------------------------------------------------------------------


def verb(value: Any, path: str) -> str:
    v = obj(value, path, ("id", "display"))
    if "id" not in v:
        raise bad(f"{path}.id", "is required")
    verb_id = iri(v["id"], f"{path}.id", max_length=500)
    if "display" in v:
        language_map(v["display"], f"{path}.display")
    return verb_id


def interaction_component(value: Any, path: str) -> None:
    part = obj(value, path, ("id", "description"))
    if "id" not in part:
        raise bad(f"{path}.id", "is required")
    string(part["id"], f"{path}.id")
    if "description" in part:
        language_map(part["description"], f"{path}.description")


DEFINITION_KEYS = frozenset(
    {
        "name",
        "description",
        "type",
        "moreInfo",
        "extensions",
        "interactionType",
        "correctResponsesPattern",
        *INTERACTION_PARTS,
    }
)


def definition(value: Any, path: str) -> None:
    d = obj(value, path, DEFINITION_KEYS)
    for part in ("name", "description"):
        if part in d:
            language_map(d[part], f"{path}.{part}")
    if "type" in d:
        iri(d["type"], f"{path}.type")
    if "moreInfo" in d:
        iri(d["moreInfo"], f"{path}.moreInfo")
    if "extensions" in d:
        extensions(d["extensions"], f"{path}.extensions")
    if "interactionType" in d:
        kind = d["interactionType"]
        if not isinstance(kind, str) or kind not in INTERACTION_TYPES:
            raise bad(f"{path}.interactionType", "is not an xAPI interaction type")
    elif any(k in d for k in ("correctResponsesPattern", *INTERACTION_PARTS)):
        raise bad(f"{path}.interactionType", "is required with interaction components")
    if "correctResponsesPattern" in d:
        array(d["correctResponsesPattern"], f"{path}.correctResponsesPattern", string)
    for part in INTERACTION_PARTS:
        if part in d:
            array(d[part], f"{path}.{part}", interaction_component)


def activity(value: Any, path: str) -> None:
    a = obj(value, path, ("objectType", "id", "definition"))
    if a.get("objectType", "Activity") != "Activity":
        raise bad(f"{path}.objectType", "must be Activity")
    if "id" not in a:
        raise bad(f"{path}.id", "is required")
    iri(a["id"], f"{path}.id")
    if "definition" in a:
        definition(a["definition"], f"{path}.definition")


def statement_ref(value: Any, path: str) -> None:
    ref = obj(value, path, ("objectType", "id"))
    if ref.get("objectType") != "StatementRef":
        raise bad(f"{path}.objectType", "must be StatementRef")
    if "id" not in ref:
        raise bad(f"{path}.id", "is required")
    uuid_string(ref["id"], f"{path}.id")


OBJECT_TYPES = ("Activity", "Agent", "Group", "SubStatement", "StatementRef")


def statement_object(value: Any, path: str, *, inside_substatement: bool) -> str:
    o = obj(value, path)
    kind = o.get("objectType", "Activity")
    if kind not in OBJECT_TYPES:
        raise bad(f"{path}.objectType", "must be " + ", ".join(OBJECT_TYPES))
    if kind == "Activity":
        activity(o, path)
    elif kind == "Agent":
        agent(o, path, explicit=True)
    elif kind == "Group":
        group(o, path)
    elif kind == "StatementRef":
        statement_ref(o, path)
    elif inside_substatement:
        raise bad(f"{path}.objectType", "a SubStatement cannot hold a SubStatement")
    else:
        substatement(o, path)
    return str(kind)


# --- result, context, attachments ---------------------------------------------------------------


def score(value: Any, path: str) -> None:
    s = obj(value, path, ("scaled", "raw", "min", "max"))
    got = {k: number(s[k], f"{path}.{k}") for k in ("scaled", "raw", "min", "max") if k in s}
    if "scaled" in got and not -1 <= got["scaled"] <= 1:
        raise bad(f"{path}.scaled", "must be between -1 and 1")
    if "min" in got and "max" in got and got["min"] >= got["max"]:
        raise bad(f"{path}.min", "must be less than max")
    if "raw" in got:
        if "min" in got and got["raw"] < got["min"]:
            raise bad(f"{path}.raw", "must not be below min")
        if "max" in got and got["raw"] > got["max"]:
            raise bad(f"{path}.raw", "must not be above max")


def result(value: Any, path: str) -> None:
    r = obj(value, path, ("score", "success", "completion", "response", "duration", "extensions"))
    if "score" in r:
        score(r["score"], f"{path}.score")
    for flag in ("success", "completion"):
        if flag in r:
            boolean(r[flag], f"{path}.{flag}")
    if "response" in r:
        string(r["response"], f"{path}.response")
    if "duration" in r:
        duration(r["duration"], f"{path}.duration")
    if "extensions" in r:
        extensions(r["extensions"], f"{path}.extensions")


def context_activities(value: Any, path: str) -> None:
    for kind, activities in obj(value, path, CONTEXT_ACTIVITY_KINDS).items():
        if isinstance(activities, list):
            array(activities, f"{path}.{kind}", activity)
        else:
            activity(activities, f"{path}.{kind}")


CONTEXT_KEYS = frozenset(
    {
        "registration",
        "instructor",
        "team",
        "contextActivities",
        "revision",
        "platform",
        "language",
        "statement",
        "extensions",
    }
)


def context(value: Any, path: str, object_type: str) -> None:
    c = obj(value, path, CONTEXT_KEYS)
    if "registration" in c:
        uuid_string(c["registration"], f"{path}.registration")
    if "instructor" in c:
        actor(c["instructor"], f"{path}.instructor")
    if "team" in c:
        group(c["team"], f"{path}.team")
    if "contextActivities" in c:
        context_activities(c["contextActivities"], f"{path}.contextActivities")
    for part in ("revision", "platform"):
        if part in c:
            string(c[part], f"{path}.{part}")
            if object_type != "Activity":
                raise bad(f"{path}.{part}", "only when the statement's object is an Activity")
    if "language" in c:
        language_tag(c["language"], f"{path}.language")
    if "statement" in c:
        statement_ref(c["statement"], f"{path}.statement")
    if "extensions" in c:
        extensions(c["extensions"], f"{path}.extensions")


ATTACHMENT_KEYS = frozenset(
    {"usageType", "display", "description", "contentType", "length", "sha2", "fileUrl"}
)


def attachment(value: Any, path: str) -> None:
    a = obj(value, path, ATTACHMENT_KEYS)
    for required in ("usageType", "display", "contentType", "length", "sha2"):
        if required not in a:
            raise bad(f"{path}.{required}", "is required")
    iri(a["usageType"], f"{path}.usageType")
    language_map(a["display"], f"{path}.display")
    if "description" in a:
        language_map(a["description"], f"{path}.description")
    if not isinstance(a["contentType"], str) or not MIME_RE.match(a["contentType"]):
        raise bad(f"{path}.contentType", "must be a media type")
    length = a["length"]
    if isinstance(length, bool) or not isinstance(length, int) or length < 0:
        raise bad(f"{path}.length", "must be a whole number of octets")
    string(a["sha2"], f"{path}.sha2")
    if "fileUrl" in a:
        iri(a["fileUrl"], f"{path}.fileUrl")


# --- statements ---------------------------------------------------------------------------------


def _parts(s: dict[str, Any], path: str, *, inside_substatement: bool) -> None:
    for part in ("actor", "verb", "object"):
        if part not in s:
            raise bad(f"{path}.{part}", "is required")
    actor(s["actor"], f"{path}.actor")
    verb_id = verb(s["verb"], f"{path}.verb")
    kind = statement_object(s["object"], f"{path}.object", inside_substatement=inside_substatement)
    if verb_id == VOIDED and kind != "StatementRef":
        raise bad(f"{path}.object.objectType", "a voiding statement's object is a StatementRef")
    if "result" in s:
        result(s["result"], f"{path}.result")
    if "context" in s:
        context(s["context"], f"{path}.context", kind)
    if "timestamp" in s:
        timestamp(s["timestamp"], f"{path}.timestamp")
    if "attachments" in s:
        array(s["attachments"], f"{path}.attachments", attachment)


VOIDED = "http://adlnet.gov/expapi/verbs/voided"


def substatement(value: Any, path: str) -> None:
    _parts(obj(value, path, SUBSTATEMENT_KEYS), path, inside_substatement=True)


def statement(value: Any, path: str = "statement") -> dict[str, Any]:
    s = obj(value, path, STATEMENT_KEYS)
    if "id" in s:
        uuid_string(s["id"], f"{path}.id")
    _parts(s, path, inside_substatement=False)
    if "stored" in s:
        timestamp(s["stored"], f"{path}.stored")
    if "authority" in s:
        authority(s["authority"], f"{path}.authority")
    if "version" in s and (not isinstance(s["version"], str) or not VERSION_RE.match(s["version"])):
        raise bad(f"{path}.version", "must be 1.0 or 1.0.x")
    return s
