"""The audit trail (审计日志): an append-only record of who changed what, kept by every service in
its own `audit_log` table, in the same transaction as the change it describes.

Each service holds one `AuditTrail` over its table; business code records what it did with the
caller and, where it has them, the record's state before and after:

    await AUDIT.record(session, actor=user, action="teacher.transfer", target_type="teacher",
                       target_id=str(teacher.id), target_org=teacher.org_path,
                       before={"school_id": old}, after={"school_id": new})

Code that changes ORM objects synchronously (a history helper, say) may `add` an entry instead:
it joins the session's unit of work and is written with its next flush, at the latest when the
request boundary commits, so it still lands in the change's transaction or not at all.

Personal data never enters the trail in clear: values under keys that name an ID number, a
phone, a password, a secret or a token are masked (`mask_personal`). The table refuses
UPDATE and DELETE (a trigger in the migration), so a row once written stays as written.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from datetime import date, datetime
from decimal import Decimal
from typing import Any
from uuid import UUID

from sqlalchemy import Table
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import registry

from yanxiu.kit import writes
from yanxiu.kit.auth import Principal
from yanxiu.kit.context import trace_id_var
from yanxiu.kit.pii import mask_id_number, mask_phone

# Keys whose values are personal data or credentials. Matched on the key's words, so
# "id_number", "new_id_number" and "idNumber" all count.
_ID_NUMBER = re.compile(r"id_?number|身份证", re.IGNORECASE)
_PHONE = re.compile(r"phone|mobile|手机", re.IGNORECASE)
_SECRET = re.compile(r"password|passwd|secret|token|hash|cipher|private|signature", re.IGNORECASE)
REDACTED = "***"


def _plain(value: Any) -> Any:
    """A JSON-ready form of a value (UUIDs, dates and decimals as text)."""
    if isinstance(value, UUID | Decimal):
        return str(value)
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, bytes | bytearray | memoryview):
        return REDACTED  # ciphertexts and digests never say anything useful to a reader
    if isinstance(value, Mapping):
        return mask_personal(value)
    if isinstance(value, list | tuple | set | frozenset):
        return [_plain(v) for v in value]
    return value


def mask_personal(data: Mapping[str, Any]) -> dict[str, Any]:
    """A copy of `data` with personal data masked and secrets removed, at any depth."""
    out: dict[str, Any] = {}
    for key, value in data.items():
        name = str(key)
        if value is None:
            out[name] = None
        elif _SECRET.search(name):
            out[name] = REDACTED
        elif _ID_NUMBER.search(name):
            out[name] = mask_id_number(str(value))
        elif _PHONE.search(name):
            out[name] = mask_phone(str(value))
        else:
            out[name] = _plain(value)
    return out


class _Entry:
    """An audit row as an ORM object (see `AuditTrail.add`)."""

    def __init__(self, **values: Any) -> None:
        for name, value in values.items():
            setattr(self, name, value)


# One mapped class per audit table: the ORM needs a class to put an entry in a unit of work.
_MAPPER_REGISTRY = registry()
_ENTRY_CLASSES: dict[str, type[_Entry]] = {}


def _entry_class(table: Table) -> type[_Entry]:
    key = table.fullname
    cls = _ENTRY_CLASSES.get(key)
    if cls is None:
        cls = type(f"AuditEntry_{table.schema or 'public'}", (_Entry,), {})
        _MAPPER_REGISTRY.map_imperatively(cls, table)
        _ENTRY_CLASSES[key] = cls
    return cls


class AuditTrail:
    """A service's audit log (its `audit_log` table)."""

    def __init__(self, table: Table) -> None:
        self.table = table

    async def record(self, session: AsyncSession, **entry: Any) -> None:
        """Append one entry now, in the session's transaction; the keywords are those of
        `add`. What the session holds pending is flushed first, as before any statement of
        the change; the entry itself is one INSERT on the driver (`kit.writes.add`)."""
        if session.new or session.dirty or session.deleted:
            await session.flush()
        await writes.add(session, _entry_class(self.table)(**entry_values(**entry)))

    def add(
        self,
        session: AsyncSession,
        *,
        actor: Principal | None,
        action: str,
        target_type: str,
        target_id: str | None = None,
        target_org: Sequence[str] | None = None,
        before: Mapping[str, Any] | None = None,
        after: Mapping[str, Any] | None = None,
        actor_id: str | None = None,
    ) -> None:
        """Like `record`, without awaiting: the entry is written with the session's next
        flush (the commit flushes too), in the same transaction as the change."""
        values = entry_values(
            actor=actor,
            action=action,
            target_type=target_type,
            target_id=target_id,
            target_org=target_org,
            before=before,
            after=after,
            actor_id=actor_id,
        )
        session.add(_entry_class(self.table)(**values))


def entry_values(
    *,
    actor: Principal | None,
    action: str,
    target_type: str,
    target_id: str | None = None,
    target_org: Sequence[str] | None = None,
    before: Mapping[str, Any] | None = None,
    after: Mapping[str, Any] | None = None,
    actor_id: str | None = None,
) -> dict[str, Any]:
    """The columns of one entry, personal data masked and the request's id attached."""
    return {
        "actor_id": actor.user_id if actor is not None else (actor_id or "system"),
        "actor_role": actor.role.value if actor is not None else "system",
        "actor_org": list(actor.org_path) if actor is not None else [],
        "action": action,
        "target_type": target_type,
        "target_id": target_id,
        "target_org": list(target_org) if target_org is not None else None,
        "before": mask_personal(before) if before is not None else None,
        "after": mask_personal(after) if after is not None else None,
        "request_id": trace_id_var.get(),
    }
