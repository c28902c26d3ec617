"""`python -m stack.schema_wait`, the init container of every Deployment in deploy/k8s: a new
pod starts only once the migration Job has brought every schema to this image's heads."""

from __future__ import annotations

import uuid

import asyncpg
import pytest
from alembic.script import ScriptDirectory

from stack import schema_wait
from stack.migrate import MIGRATED
from stack.schema_wait import schema_states, wait_for_schemas
from yanxiu.devstack.paths import service_dir
from yanxiu.devstack.postgres import create_database, drop_database, with_database
from yanxiu.kit.db import plain_url
from yanxiu.kit.migrations import alembic_config


async def set_revision(database_url: str, schema: str, revision: str) -> None:
    conn = await asyncpg.connect(plain_url(database_url))
    try:
        await conn.execute(f"UPDATE {schema}.alembic_version SET version_num = $1", revision)
    finally:
        await conn.close()


def previous_revision(service: str, database_url: str) -> str:
    script = ScriptDirectory.from_config(alembic_config(service_dir(service), database_url))
    (head,) = script.get_heads()
    down = script.get_revision(head).down_revision
    assert isinstance(down, str), f"{service} has a single migration or a merge at head"
    return down


async def test_a_migrated_database_lets_the_pod_start_at_once(database_url: str) -> None:
    states = await schema_states(database_url)
    assert {s.service for s in states} == set(MIGRATED)
    assert all(s.ready and s.current == s.heads for s in states)
    assert await wait_for_schemas(database_url, timeout=0, say=False)


async def test_an_unmigrated_database_holds_the_pod_until_the_timeout(pg_server: str) -> None:
    name = f"yanxiu_test_wait_{uuid.uuid4().hex[:10]}"
    await create_database(pg_server, name)
    try:
        url = with_database(pg_server, name)
        states = await schema_states(url)
        assert not any(s.ready for s in states)
        assert "not migrated" in states[0].describe()
        assert not await wait_for_schemas(url, timeout=0.3, interval=0.1, say=False)
    finally:
        await drop_database(pg_server, name)


async def test_a_schema_one_migration_behind_holds_the_pod(database_url: str) -> None:
    behind = previous_revision("credits", database_url)
    await set_revision(database_url, "credits", behind)
    (credits,) = [s for s in await schema_states(database_url) if s.service == "credits"]
    assert not credits.ready
    assert "this image expects" in credits.describe()
    assert not await wait_for_schemas(database_url, timeout=0.2, interval=0.1, say=False)


async def test_a_schema_newer_than_the_image_is_accepted_for_a_roll_back(
    database_url: str,
) -> None:
    await set_revision(database_url, "lessons", "9999_from_the_next_release")
    (lessons,) = [s for s in await schema_states(database_url) if s.service == "lessons"]
    assert lessons.ready and "roll-back" in lessons.describe()
    assert await wait_for_schemas(database_url, timeout=0, say=False)


async def test_an_unreachable_database_is_waited_for_not_a_crash() -> None:
    url = "postgresql://nobody@127.0.0.1:1/none"
    assert not await wait_for_schemas(url, timeout=0.2, interval=0.1, say=False)


def test_the_command_needs_database_url(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("DATABASE_URL", raising=False)
    assert schema_wait.main([]) == 2
