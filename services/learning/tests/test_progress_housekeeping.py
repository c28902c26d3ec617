"""The heartbeat log is kept bounded: rows older than its retention go on the service's own
housekeeping schedule; younger rows, and the progress they proved, stay."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from typing import Any

from sqlalchemy import text

from learning.config import Settings
from learning.main import create_app
from yanxiu.kit.db import make_engine
from yanxiu.testing import app_client, eventually

LOG_ROW = (
    "INSERT INTO learning.heartbeats (teacher_id, project_id, course_id, session_id, position, "
    "segments, received_at, outcome) SELECT gen_random_uuid(), gen_random_uuid(), "
    "gen_random_uuid(), 's', 0, '[]', now() - CAST(:age AS interval), 'accepted' "
    "FROM generate_series(1, :n)"
)


async def test_the_heartbeat_log_is_pruned_after_its_retention_on_its_own_schedule(
    settings_for: Callable[..., Any], database_url: str
) -> None:
    engine = make_engine(database_url, pool_size=1)
    try:
        async with engine.begin() as conn:
            # Written in time order, as the batcher does: the oldest rows have the lowest ids.
            for age, n in ((timedelta(days=45), 700), (timedelta(days=31), 300)):
                await conn.execute(text(LOG_ROW), {"age": age, "n": n})
            await conn.execute(text(LOG_ROW), {"age": timedelta(days=29), "n": 200})
            await conn.execute(text(LOG_ROW), {"age": timedelta(minutes=1), "n": 100})

        async def left() -> tuple[int, int]:
            async with engine.connect() as conn:
                old, young = (
                    await conn.execute(
                        text(
                            "SELECT count(*) FILTER (WHERE received_at < now() - interval "
                            "'30 days'), count(*) FILTER (WHERE received_at >= now() - "
                            "interval '30 days') FROM learning.heartbeats"
                        )
                    )
                ).one()
                return int(old), int(young)

        settings = settings_for(
            Settings, housekeeping_interval_seconds=0.3, housekeeping_batch_size=128
        )
        assert settings.progress_log_retention_days == 30  # the default
        async with app_client(create_app(settings)):
            # Nothing is called: the service's housekeeping finds the rows by itself.
            await eventually(lambda: _none_old(left), timeout=15, interval=0.1)
        assert await left() == (0, 300)
    finally:
        await engine.dispose()


async def _none_old(left: Callable[[], Any]) -> bool:
    old, _young = await left()
    return bool(old == 0)
