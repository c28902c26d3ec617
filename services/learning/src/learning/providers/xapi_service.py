"""The xAPI statements resource (学习记录): store, compare, void, read; completion statements
become completions in attainment, counted once per course: a new statement (a new attempt, in
xAPI's terms) at a course that counts already adds no hours. Every statement belongs to the
provider that sent it."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, cast

from sqlalchemy import Table, select, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from learning.attainment import service as attainment
from learning.providers import xapi_index, xapi_mapping, xapi_signature
from learning.providers import xapi_statements as xs
from learning.providers.errors import (
    XapiCannotVoidVoiding,
    XapiStatementConflict,
    XapiStatementInvalid,
    XapiStatementNotFound,
    XapiVoidForbidden,
)
from learning.providers.models import Provider, XapiAttachment, XapiStatement
from learning.providers.xapi_attachments import Attachment, declared
from learning.providers.xapi_attachments import check as check_parts

MAX_BATCH = 500
STATEMENTS = cast(Table, XapiStatement.__table__)  # a batch is inserted as rows, not objects


def authority(provider: Provider, home_page: str) -> dict[str, Any]:
    """The LRS sets `authority` to the credentials' owner: the provider."""
    return {
        "objectType": "Agent",
        "name": provider.name,
        "account": {
            "homePage": home_page.rstrip("/") + xs.AUTHORITY_SUFFIX,
            "name": provider.code,
        },
    }


def as_batch(body: Any, attachments: dict[str, Attachment] | None = None) -> list[dict[str, Any]]:
    """The statements of a POST, validated, with their attachments' parts and signatures."""
    items = body if isinstance(body, list) else [body]
    if not items:
        raise XapiStatementInvalid("语句数组为空", "Empty statement array")
    if len(items) > MAX_BATCH:
        raise XapiStatementInvalid(
            f"一次最多 {MAX_BATCH} 条语句", f"At most {MAX_BATCH} statements per request"
        )
    checked = [xs.validate(s, f"statements[{i}]") for i, s in enumerate(items)]
    ids = [uuid.UUID(s["id"]) for s in checked if "id" in s]
    if len(ids) != len(set(ids)):
        raise XapiStatementInvalid("同一批中语句编号重复", "Duplicate statement ids in one batch")
    check_attachments(checked, attachments or {})
    return checked


def check_attachments(statements: list[dict[str, Any]], attachments: dict[str, Attachment]) -> None:
    """Every part an attachment's, every attachment's content at hand, every signature sound."""
    check_parts(statements, attachments)
    for statement in statements:
        xapi_signature.check_signed(statement, attachments)


async def save_attachments(
    session: AsyncSession, *, provider: Provider, attachments: dict[str, Attachment]
) -> None:
    """Keep the content of attachments sent as parts (once per provider and hash)."""
    if not attachments:
        return
    await session.execute(
        insert(XapiAttachment)
        .values(
            [
                {
                    "provider_id": provider.id,
                    "sha2": a.sha2,
                    "content_type": a.content_type,
                    "content": a.content,
                }
                for a in attachments.values()
            ]
        )
        .on_conflict_do_nothing()
    )


async def attachments_of(
    session: AsyncSession, *, provider: Provider, statements: list[dict[str, Any]]
) -> list[Attachment]:
    """The content of the statements' attachments that was sent as parts, each once."""
    wanted = sorted({str(meta["sha2"]).lower() for meta in declared(statements)})
    if not wanted:
        return []
    rows = await session.execute(
        select(XapiAttachment.sha2, XapiAttachment.content_type, XapiAttachment.content).where(
            XapiAttachment.provider_id == provider.id, XapiAttachment.sha2.in_(wanted)
        )
    )
    return [Attachment(r.sha2, r.content_type, r.content) for r in rows]


@dataclass(frozen=True)
class Stored:
    """A statement stored, and for a completion statement what it became (its mapping)."""

    statement_id: uuid.UUID
    mapping: xapi_mapping.Mapping | None = None


def completion_header(stored: list[Stored]) -> str:
    """`X-Yanxiu-Completions`: "<statement id> <status> <counting completion id or ->" per
    completion statement, comma-separated; status is recorded, already_counted (the course
    counts already: no hours added), held, already_recorded, waiting or unmappable."""
    return ", ".join(
        f"{s.statement_id} {HEADER_STATUS.get(s.mapping.status, s.mapping.status)} "
        f"{_completion_id(s.mapping)}"
        for s in stored
        if s.mapping is not None
    )


def _completion_id(mapping: xapi_mapping.Mapping) -> str:
    done = mapping.completion
    return str(done.completion_id) if done is not None and done.completion_id else "-"


HEADER_STATUS = {"counted": "recorded"}


@dataclass(frozen=True)
class _Row:
    """A statement as it is inserted: with what the LRS sets, its target if it voids one."""

    statement_id: uuid.UUID
    statement: dict[str, Any]
    target: uuid.UUID | None
    values: dict[str, Any]


def _row(provider: Provider, statement: dict[str, Any], home_page: str, now: datetime) -> _Row:
    statement_id = uuid.UUID(statement["id"]) if "id" in statement else uuid.uuid4()
    stored = {
        **xs.normalized(statement),
        "id": str(statement_id),
        "timestamp": statement.get("timestamp") or now.isoformat(),
        "stored": now.isoformat(),
        "authority": authority(provider, home_page),
        "version": statement.get("version") or "1.0.0",
    }
    target = xs.voided_target(statement)
    values = {
        "id": statement_id,
        "provider_id": provider.id,
        "statement": stored,
        "verb_id": xs.verb_of(statement),
        "voids_id": target,
        "stored": now,
        "voided": False,
        **xapi_index.index_keys(stored).columns(),
    }
    return _Row(statement_id, stored, target, values)


async def store_batch(
    session: AsyncSession,
    *,
    provider: Provider,
    statements: list[dict[str, Any]],
    home_page: str,
    attachments: dict[str, Attachment] | None = None,
) -> list[Stored]:
    """All or nothing: a refusal anywhere (an invalid statement, a conflict) rolls the whole
    request back (the boundary); a completion that cannot count yet is not a refusal.

    The batch is one INSERT (ids already stored are skipped by the key); then one look-up for
    statements that a stored statement voided before they came (marked voided, not mapped);
    only ids seen before, voiding statements and completions take a statement of their own.
    """
    now = datetime.now(UTC)
    rows = [_row(provider, s, home_page, now) for s in statements]
    inserted = set(
        (
            await session.execute(
                insert(STATEMENTS)
                .on_conflict_do_nothing(index_elements=["id"])
                .returning(STATEMENTS.c.id),
                [r.values for r in rows],
            )
        ).scalars()
    )
    voided_before = await _voided_beforehand(
        session,
        provider=provider,
        statement_ids=[
            r.statement_id for r in rows if r.statement_id in inserted and r.target is None
        ],
    )
    out = []
    for row in rows:
        if row.statement_id not in inserted:
            await _same_or_conflict(
                session, provider=provider, statement_id=row.statement_id, new=row.statement
            )
            out.append(Stored(row.statement_id))
        elif row.target is not None:
            await _void(session, provider=provider, target_id=row.target, by=row.statement_id)
            out.append(Stored(row.statement_id))
        elif row.statement_id in voided_before or not xs.is_completion(row.statement):
            out.append(Stored(row.statement_id))
        else:
            mapping = await xapi_mapping.map_statement(
                session, provider=provider, statement=row.statement, home_page=home_page
            )
            out.append(Stored(row.statement_id, mapping))
    await save_attachments(session, provider=provider, attachments=attachments or {})
    return out


async def store(
    session: AsyncSession, *, provider: Provider, statement: dict[str, Any], home_page: str
) -> Stored:
    [stored] = await store_batch(
        session, provider=provider, statements=[statement], home_page=home_page
    )
    return stored


async def _same_or_conflict(
    session: AsyncSession, *, provider: Provider, statement_id: uuid.UUID, new: dict[str, Any]
) -> None:
    """Same id and the same statement: a no-op. Otherwise 409 (also for another provider's id)."""
    existing = await session.get(XapiStatement, statement_id)
    assert existing is not None
    if existing.provider_id != provider.id or not xs.same_statement(existing.statement, new):
        raise XapiStatementConflict(statement_id=str(statement_id))


async def _void(
    session: AsyncSession, *, provider: Provider, target_id: uuid.UUID, by: uuid.UUID
) -> None:
    target = (
        await session.execute(
            select(XapiStatement).where(XapiStatement.id == target_id).with_for_update()
        )
    ).scalar_one_or_none()
    if target is None:
        return  # the spec: not a reason to refuse; the target is voided when it arrives
    if target.provider_id != provider.id:
        raise XapiVoidForbidden(statement_id=str(target_id))
    if target.verb_id == xs.VOIDED:
        raise XapiCannotVoidVoiding(statement_id=str(target_id))
    if target.voided:
        return
    target.voided = True
    await session.flush()
    if xs.is_completion(target.statement):
        # Its counted completion is revoked (an attempt at the same course counts instead),
        # or the attempt or held completion it became is withdrawn.
        await attainment.revoke_completion(
            session, source="xapi", source_ref=str(target.id), reason=f"xapi voided by {by}"
        )


async def _voided_beforehand(
    session: AsyncSession, *, provider: Provider, statement_ids: list[uuid.UUID]
) -> set[uuid.UUID]:
    """Which of the statements a stored statement of the provider voids (the voiding came
    first): they are marked voided here."""
    if not statement_ids:
        return set()
    found = set(
        (
            await session.execute(
                select(XapiStatement.voids_id).where(
                    XapiStatement.voids_id.in_(statement_ids),
                    XapiStatement.provider_id == provider.id,
                )
            )
        ).scalars()
    )
    if found:
        await session.execute(
            update(XapiStatement).where(XapiStatement.id.in_(found)).values(voided=True)
        )
    return {f for f in found if f is not None}


async def get(
    session: AsyncSession, *, provider: Provider, statement_id: uuid.UUID, voided: bool
) -> dict[str, Any]:
    """statementId finds a statement that is not voided; voidedStatementId one that is."""
    row = await session.get(XapiStatement, statement_id)
    if row is None or row.provider_id != provider.id or row.voided != voided:
        raise XapiStatementNotFound(statement_id=str(statement_id))
    return row.statement


async def list_mappings(
    session: AsyncSession,
    *,
    provider: Provider,
    statement_id: uuid.UUID | None,
    status: str | None,
    after_seq: int | None,
    limit: int,
) -> tuple[list[XapiStatement], int | None]:
    """The provider's completion statements with what they became, newest first."""
    query = select(XapiStatement).where(
        XapiStatement.provider_id == provider.id, XapiStatement.mapping.is_not(None)
    )
    if statement_id is not None:
        query = query.where(XapiStatement.id == statement_id)
    if status is not None:
        query = query.where(XapiStatement.mapping == status)
    if after_seq is not None:
        query = query.where(XapiStatement.seq < after_seq)
    rows = list(
        (await session.execute(query.order_by(XapiStatement.seq.desc()).limit(limit + 1))).scalars()
    )
    more = rows[limit - 1].seq if len(rows) > limit else None
    return rows[:limit], more
