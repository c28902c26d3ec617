"""xAPI 1.0.3 document resources (Communication 2.2–2.7): State (activity + agent [+ registration]
+ stateId), Activity Profile (activity + profileId) and Agent Profile (agent + profileId)
documents, kept as sent, per provider; the Activities and Agents resources read from statements.

- PUT stores (replaces) a document; POST merges a JSON object into a stored JSON object (top-level
  properties overwritten), or stores it when there is none; either document not a JSON object:
  400. GET with an id returns the document with its ETag; without, the ids stored (after
  `since`). DELETE with an id deletes it; a State DELETE without one deletes the scope's states.
- Concurrency (§3.1): `If-Match` (the document's ETag, or *) and `If-None-Match: *` are honoured
  on every write (412 when they do not hold); a profile PUT needs one of them: without, it is a
  409 over an existing document and a 400 otherwise (as ADL's conformance suite expects).
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import orjson
from sqlalchemy import delete, select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from learning.providers.errors import (
    XapiDocumentConflict,
    XapiDocumentNotFound,
    XapiDocumentPrecondition,
    XapiDocumentPreconditionMissing,
    XapiStatementInvalid,
)
from learning.providers.models import Provider, XapiDocument, XapiDocumentKind, XapiStatement

JSON = "application/json"


@dataclass(frozen=True)
class Scope:
    """Where a document lives: its kind and the parameters that name the set it belongs to."""

    kind: XapiDocumentKind
    activity_id: str = ""
    agent_key: str = ""
    registration: str = ""

    @property
    def key(self) -> str:
        parts = (self.kind, self.activity_id, self.agent_key, self.registration)
        return hashlib.sha256("\0".join(parts).encode()).hexdigest()


@dataclass(frozen=True)
class Preconditions:
    if_match: str | None = None
    if_none_match: str | None = None

    @property
    def given(self) -> bool:
        return self.if_match is not None or self.if_none_match is not None


def etag_of(content: bytes) -> str:
    return hashlib.sha1(content, usedforsecurity=False).hexdigest()


def _document_key(document_id: str) -> str:
    return hashlib.sha256(document_id.encode()).hexdigest()


def _tags(header: str) -> set[str]:
    return {t.strip().removeprefix("W/").strip('"') for t in header.split(",") if t.strip()}


def _check(found: XapiDocument | None, pre: Preconditions) -> None:
    if pre.if_match is not None:
        tags = _tags(pre.if_match)
        if found is None or ("*" not in tags and found.etag not in tags):
            raise XapiDocumentPrecondition()
    if pre.if_none_match is not None:
        tags = _tags(pre.if_none_match)
        if found is not None and ("*" in tags or found.etag in tags):
            raise XapiDocumentPrecondition()


async def _find(
    session: AsyncSession, provider: Provider, scope: Scope, document_id: str, *, lock: bool
) -> XapiDocument | None:
    query = select(XapiDocument).where(
        XapiDocument.provider_id == provider.id,
        XapiDocument.scope == scope.key,
        XapiDocument.document_key == _document_key(document_id),
    )
    if lock:
        query = query.with_for_update()
    return (await session.execute(query)).scalar_one_or_none()


def _json_object(content: bytes, content_type: str) -> dict[str, Any] | None:
    if content_type.split(";")[0].strip().lower() != JSON:
        return None
    try:
        value = orjson.loads(content)
    except orjson.JSONDecodeError:
        return None
    return value if isinstance(value, dict) else None


async def put(
    session: AsyncSession,
    *,
    provider: Provider,
    scope: Scope,
    document_id: str,
    content: bytes,
    content_type: str,
    pre: Preconditions,
    merge: bool,
) -> None:
    """PUT (merge=False) or POST (merge=True) one document."""
    if content_type.split(";")[0].strip().lower() == JSON and content:
        try:
            orjson.loads(content)
        except orjson.JSONDecodeError as exc:
            raise XapiStatementInvalid(
                "文档不是合法 JSON", "The document is not valid JSON"
            ) from exc
    found = await _find(session, provider, scope, document_id, lock=True)
    _check(found, pre)
    if not merge and scope.kind != "state" and not pre.given:
        # A profile is replaced only knowingly: 409 over a document, 400 without one.
        raise XapiDocumentConflict() if found is not None else XapiDocumentPreconditionMissing()
    if merge and found is not None:
        old = _json_object(found.content, found.content_type)
        new = _json_object(content, content_type)
        if old is None or new is None:
            raise XapiStatementInvalid(
                "合并时两份文档都须为 JSON 对象", "To merge, both documents must be JSON objects"
            )
        content, content_type = orjson.dumps(old | new), JSON
    now = datetime.now(UTC)
    values = {
        "provider_id": provider.id,
        "kind": scope.kind,
        "activity_id": scope.activity_id,
        "agent_key": scope.agent_key,
        "registration": scope.registration,
        "document_id": document_id,
        "scope": scope.key,
        "document_key": _document_key(document_id),
        "content": content,
        "content_type": content_type or "application/octet-stream",
        "etag": etag_of(content),
        "updated": now,
    }
    await session.execute(
        insert(XapiDocument)
        .values(**values)
        .on_conflict_do_update(
            index_elements=["provider_id", "scope", "document_key"],
            set_={k: values[k] for k in ("content", "content_type", "etag", "updated")},
        )
    )


async def get(
    session: AsyncSession, *, provider: Provider, scope: Scope, document_id: str
) -> XapiDocument:
    found = await _find(session, provider, scope, document_id, lock=False)
    if found is None:
        raise XapiDocumentNotFound()
    return found


async def ids(
    session: AsyncSession, *, provider: Provider, scope: Scope, since: datetime | None
) -> list[str]:
    query = select(XapiDocument.document_id).where(
        XapiDocument.provider_id == provider.id, XapiDocument.scope == scope.key
    )
    if since is not None:
        query = query.where(XapiDocument.updated > since)
    return list((await session.execute(query.order_by(XapiDocument.id))).scalars())


async def remove(
    session: AsyncSession,
    *,
    provider: Provider,
    scope: Scope,
    document_id: str | None,
    pre: Preconditions,
) -> None:
    """One document, or (a State DELETE without stateId) every document of the scope."""
    query = delete(XapiDocument).where(
        XapiDocument.provider_id == provider.id, XapiDocument.scope == scope.key
    )
    if document_id is not None:
        found = await _find(session, provider, scope, document_id, lock=True)
        _check(found, pre)
        query = query.where(XapiDocument.document_key == _document_key(document_id))
    await session.execute(query)


async def activity(
    session: AsyncSession, *, provider: Provider, activity_id: str
) -> dict[str, Any]:
    """The Activity as the provider's statements describe it: their definitions merged (a
    later statement's parts over an earlier one's; language maps joined)."""
    rows = (
        await session.execute(
            select(XapiStatement.statement["object"]["definition"])
            .where(
                XapiStatement.provider_id == provider.id,
                XapiStatement.statement.contains({"object": {"id": activity_id}}),
            )
            .order_by(XapiStatement.seq)
            .limit(1000)
        )
    ).scalars()
    definition: dict[str, Any] = {}
    for found in rows:
        if not isinstance(found, dict):
            continue
        for key, value in found.items():
            if key in ("name", "description") and isinstance(value, dict):
                definition[key] = {**definition.get(key, {}), **value}
            else:
                definition[key] = value
    shown: dict[str, Any] = {"objectType": "Activity", "id": activity_id}
    if definition:
        shown["definition"] = definition
    return shown


def person(agent: dict[str, Any]) -> dict[str, Any]:
    """The Person object of an Agent (§2.4): every identifier and name known, as arrays."""
    shown: dict[str, Any] = {"objectType": "Person"}
    if isinstance(agent.get("name"), str):
        shown["name"] = [agent["name"]]
    for ifi in ("mbox", "mbox_sha1sum", "openid", "account"):
        if ifi in agent:
            shown[ifi] = [agent[ifi]]
    return shown
