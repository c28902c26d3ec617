"""Idempotency-Key for writes a client may retry: the first response is stored with the
change, in the same transaction, and a retry with the same key gets it back unchanged.

A concurrent retry waits on the first request's row lock and then sees its stored answer.
A failed request stores nothing (its transaction rolls back), so a retry runs again.
"""

from __future__ import annotations

import functools
import hashlib
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Annotated, Any

import orjson
from fastapi import Header
from fastapi.encoders import jsonable_encoder
from fastapi.responses import JSONResponse
from pydantic import BaseModel
from sqlalchemy import Table
from sqlalchemy.ext.asyncio import AsyncSession

from yanxiu.kit import writes
from yanxiu.kit.errors import DomainError

IdempotencyKey = Annotated[
    str | None,
    Header(
        alias="Idempotency-Key",
        min_length=1,
        max_length=200,
        description="重试安全：相同的键返回首次结果 (retry-safe: the same key replays the "
        "first response)",
    ),
]


class IdempotencyKeyReused(DomainError):
    status = 422
    code = "idempotency_key_reused"
    title_zh = "幂等键已用于另一个请求"
    title_en = "This Idempotency-Key was used for a different request"


def _fingerprint(method_path: str, body: Any) -> str:
    raw = orjson.dumps(jsonable_encoder(body), option=orjson.OPT_SORT_KEYS)
    return hashlib.sha256(method_path.encode() + b"\0" + raw).hexdigest()


async def once(
    session: AsyncSession,
    table: Table,
    *,
    key: str | None,
    actor: str,
    operation: str,
    request: Any,
    run: Callable[[], Awaitable[BaseModel]],
    status: int = 201,
) -> JSONResponse:
    """Run `run` once per (actor, key); replay its stored response on a retry."""
    if key is None:
        result = await run()
        return JSONResponse(jsonable_encoder(result), status_code=status)
    fingerprint = _fingerprint(operation, request)
    sql = _statements(table)
    # On the driver, in the request's transaction (kit.writes): a claimed key, a replay and
    # the stored answer are plain values, and each statement costs a fraction of the session's.
    if await writes.fetchval(session, sql.claim, actor, key, fingerprint) is None:
        row = await writes.fetchrow(session, sql.replay, actor, key)
        assert row is not None  # the conflicting row: keys are never deleted within a request
        if row["request_hash"] != fingerprint:
            raise IdempotencyKeyReused()
        return JSONResponse(
            row["body"], status_code=row["status"], headers={"Idempotent-Replayed": "true"}
        )
    body = jsonable_encoder(await run())
    await writes.execute(session, sql.store, actor, key, status, orjson.dumps(body).decode())
    return JSONResponse(body, status_code=status)


@dataclass(frozen=True)
class _Statements:
    claim: str
    replay: str
    store: str


@functools.cache
def _statements(table: Table) -> _Statements:
    name = f"{table.schema}.{table.name}" if table.schema else table.name
    return _Statements(
        claim=f"INSERT INTO {name} (actor, key, request_hash, status) VALUES ($1, $2, $3, 0) "
        "ON CONFLICT DO NOTHING RETURNING key",
        replay=f"SELECT request_hash, status, body FROM {name} WHERE actor = $1 AND key = $2",
        store=f"UPDATE {name} SET status = $3, body = $4 WHERE actor = $1 AND key = $2",
    )
