"""Lapsed sign-in sessions, their refresh tokens and old inbox rows are deleted by the
gateway's scheduled housekeeping, a day after they lapsed; live ones stay."""

from __future__ import annotations

import os
import uuid
from collections.abc import Callable
from datetime import timedelta
from typing import Any

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from services.gateway.tests.conftest import GatewayFactory
from yanxiu.testing import eventually


async def add_session(engine: AsyncEngine, account_id: uuid.UUID, *, expires_in: timedelta) -> None:
    async with engine.begin() as conn:
        sid = uuid.uuid4()
        await conn.execute(
            text(
                "INSERT INTO gateway.sessions (id, account_id, created_at, expires_at) "
                "VALUES (:id, :a, now() - interval '30 days', now() + CAST(:e AS interval))"
            ),
            {"id": sid, "a": account_id, "e": expires_in},
        )
        await conn.execute(
            text(
                "INSERT INTO gateway.refresh_tokens (digest, session_id, created_at, expires_at) "
                "VALUES (:d, :s, now() - interval '30 days', now() + CAST(:e AS interval))"
            ),
            {"d": os.urandom(32), "s": sid, "e": expires_in},
        )


async def test_lapsed_sessions_and_old_inbox_rows_are_pruned_on_schedule(
    gateway: GatewayFactory, engine: AsyncEngine, add_account: Callable[..., Any]
) -> None:
    account = await add_account()
    for _ in range(5):
        await add_session(engine, account.id, expires_in=-timedelta(days=3))  # lapsed
        await add_session(engine, account.id, expires_in=-timedelta(hours=2))  # within grace
        await add_session(engine, account.id, expires_in=timedelta(days=7))  # live
    async with engine.begin() as conn:
        await conn.execute(
            text(
                "INSERT INTO gateway.inbox (consumer, event_id, event_type, processed_at) "
                "SELECT 'gateway.accounts', gen_random_uuid(), 't', now() - CAST(:age AS interval) "
                "FROM generate_series(1, 50)"
            ),
            {"age": timedelta(days=20)},
        )

    async def counts() -> tuple[int, int, int]:
        async with engine.connect() as conn:
            row = (
                await conn.execute(
                    text(
                        "SELECT (SELECT count(*) FROM gateway.sessions), "
                        "(SELECT count(*) FROM gateway.refresh_tokens), "
                        "(SELECT count(*) FROM gateway.inbox)"
                    )
                )
            ).one()
            return int(row[0]), int(row[1]), int(row[2])

    async with gateway(housekeeping_interval_seconds=0.3, housekeeping_batch_size=2):
        await eventually(lambda: _equals(counts, (10, 10, 0)), timeout=15, interval=0.1)


async def _equals(fn: Callable[[], Any], expected: Any) -> bool:
    return bool(await fn() == expected)
