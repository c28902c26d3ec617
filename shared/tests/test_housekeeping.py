"""Housekeeping keeps the machinery tables bounded: rows past their retention go, in batches,
on the process's own schedule, one replica at a time; young rows and unpublished outbox rows
stay."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Callable
from datetime import timedelta

import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from shared.tests.kit_fixtures import SCHEMA, metadata
from yanxiu.kit.housekeeping import Housekeeper, machinery_jobs, start_housekeeping
from yanxiu.kit.settings import KitSettings
from yanxiu.testing import eventually

TABLES = [t.name for t in metadata.tables.values()]


@pytest.fixture
def settings(settings_for: Callable[..., KitSettings]) -> KitSettings:
    return settings_for(KitSettings, service_name="kittest", housekeeping_batch_size=100)


async def age_rows(engine: AsyncEngine, *, n: int, age: timedelta, tag: str) -> None:
    """`n` rows in each machinery table, written `age` ago; outbox rows published then too,
    except a tenth of them, which never were."""
    async with engine.begin() as conn:
        await conn.execute(
            text(
                f"INSERT INTO {SCHEMA}.inbox (consumer, event_id, event_type, processed_at) "
                "SELECT :tag, gen_random_uuid(), 'kittest.pinged', now() - CAST(:age AS interval) "
                "FROM generate_series(1, :n)"
            ),
            {"tag": tag, "age": age, "n": n},
        )
        await conn.execute(
            text(
                f"INSERT INTO {SCHEMA}.idempotency_keys (actor, key, request_hash, status, "
                "created_at) SELECT :tag, g::text, 'h', 201, now() - CAST(:age AS interval) "
                "FROM generate_series(1, :n) g"
            ),
            {"tag": tag, "age": age, "n": n},
        )
        await conn.execute(
            text(
                f"INSERT INTO {SCHEMA}.outbox (event_id, topic, key, event_type, payload, "
                "created_at, published_at) SELECT gen_random_uuid(), 'kittest.events.v1', :tag, "
                "'kittest.pinged', '\\x00', now() - CAST(:age AS interval), "
                "CASE WHEN g % 10 = 0 THEN NULL ELSE now() - CAST(:age AS interval) END "
                "FROM generate_series(1, :n) g"
            ),
            {"tag": tag, "age": age, "n": n},
        )


async def counts(engine: AsyncEngine, tag: str) -> dict[str, int]:
    async with engine.connect() as conn:
        return {
            "inbox": await conn.scalar(
                text(f"SELECT count(*) FROM {SCHEMA}.inbox WHERE consumer = :t"), {"t": tag}
            ),
            "idempotency_keys": await conn.scalar(
                text(f"SELECT count(*) FROM {SCHEMA}.idempotency_keys WHERE actor = :t"),
                {"t": tag},
            ),
            "outbox_published": await conn.scalar(
                text(
                    f"SELECT count(*) FROM {SCHEMA}.outbox WHERE key = :t "
                    "AND published_at IS NOT NULL"
                ),
                {"t": tag},
            ),
            "outbox_unpublished": await conn.scalar(
                text(
                    f"SELECT count(*) FROM {SCHEMA}.outbox WHERE key = :t AND published_at IS NULL"
                ),
                {"t": tag},
            ),
        }


def keeper(engine: AsyncEngine, settings: KitSettings) -> Housekeeper:
    return Housekeeper(
        engine=engine,
        schema=SCHEMA,
        jobs=machinery_jobs(SCHEMA, settings, tables=TABLES),
        interval=settings.housekeeping_interval_seconds,
        batch_size=settings.housekeeping_batch_size,
    )


async def test_rows_past_retention_go_and_young_rows_and_unpublished_events_stay(
    engine: AsyncEngine, settings: KitSettings
) -> None:
    # Defaults: inbox 14 days, idempotency keys 7 days, published outbox rows 72 h.
    await age_rows(engine, n=1000, age=timedelta(days=20), tag="old")  # every kind past due
    await age_rows(engine, n=300, age=timedelta(days=5), tag="mid")  # only the outbox's due
    await age_rows(engine, n=300, age=timedelta(hours=1), tag="young")  # none due

    done = await keeper(engine, settings).run_once()

    assert done == {"inbox": 1000, "idempotency_keys": 1000, "outbox": 900 + 270}
    assert await counts(engine, "old") == {
        "inbox": 0,
        "idempotency_keys": 0,
        "outbox_published": 0,
        "outbox_unpublished": 100,  # never published: never pruned, however old
    }
    assert await counts(engine, "mid") == {
        "inbox": 300,
        "idempotency_keys": 300,
        "outbox_published": 0,
        "outbox_unpublished": 30,
    }
    assert await counts(engine, "young") == {
        "inbox": 300,
        "idempotency_keys": 300,
        "outbox_published": 270,
        "outbox_unpublished": 30,
    }


async def test_retention_is_a_setting(
    engine: AsyncEngine, settings_for: Callable[..., KitSettings]
) -> None:
    """The relay's re-publishing after a broker loss may need published rows longer."""
    longer = settings_for(KitSettings, outbox_retention_hours=24 * 30, inbox_retention_days=60)
    await age_rows(engine, n=200, age=timedelta(days=20), tag="old")
    done = await keeper(engine, longer).run_once()
    assert done is not None and done["outbox"] == 0 and done["inbox"] == 0
    assert (await counts(engine, "old"))["outbox_published"] == 180


async def test_only_one_replica_prunes_a_schema_at_a_time(
    engine: AsyncEngine, settings: KitSettings
) -> None:
    await age_rows(engine, n=100, age=timedelta(days=20), tag="old")
    first, second = keeper(engine, settings), keeper(engine, settings)
    async with engine.connect() as other_replica:
        await other_replica.execute(text("SELECT pg_advisory_lock(:k)"), {"k": first.lock_key})
        assert await first.run_once() is None  # another replica's turn: skipped, not waited
        assert (await counts(engine, "old"))["inbox"] == 100
        await other_replica.execute(text("SELECT pg_advisory_unlock(:k)"), {"k": first.lock_key})
    assert (await second.run_once() or {}).get("inbox") == 100
    # The lock went with the run: the next run gets its turn.
    assert await first.run_once() == {"inbox": 0, "idempotency_keys": 0, "outbox": 0}


async def test_housekeeping_runs_on_its_own_schedule(
    engine: AsyncEngine, settings_for: Callable[..., KitSettings]
) -> None:
    settings = settings_for(
        KitSettings, housekeeping_interval_seconds=0.3, housekeeping_batch_size=50
    )
    task = start_housekeeping(settings, schema=SCHEMA, tables=TABLES)
    assert task is not None
    try:
        for round_ in range(2):  # the first run, then a later one, unprompted
            tag = f"old{round_}-{uuid.uuid4().hex[:6]}"
            await age_rows(engine, n=120, age=timedelta(days=20), tag=tag)

            async def pruned(tag: str = tag) -> bool:
                left = await counts(engine, tag)
                return left["inbox"] == left["idempotency_keys"] == left["outbox_published"] == 0

            await eventually(pruned, timeout=10, interval=0.1)
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)


async def test_housekeeping_can_be_switched_off(settings_for: Callable[..., KitSettings]) -> None:
    settings = settings_for(KitSettings, housekeeping_enabled=False)
    assert start_housekeeping(settings, schema=SCHEMA, tables=TABLES) is None
