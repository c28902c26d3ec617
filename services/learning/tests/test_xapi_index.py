"""The keys a statement is found by (xapi_index, pure) and migration 0014, which gives statements
stored before it their keys: afterwards the filters find old and new statements alike."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from typing import Any

import orjson
import pytest_asyncio
from alembic import command
from sqlalchemy import text

from learning.providers.xapi_index import agent_key, hashed, index_keys
from yanxiu.devstack.paths import service_dir
from yanxiu.devstack.postgres import create_database, drop_database, with_database
from yanxiu.kit.db import asyncpg_url, make_engine
from yanxiu.kit.migrations import alembic_config

LI: dict[str, Any] = {"objectType": "Agent", "name": "李老师", "mbox": "mailto:li@school.cn"}
WANG = {"account": {"name": "wang", "homePage": "https://zhixue.example"}}
MEETING = "http://www.example.com/meetings/34534"
PARENT = "http://www.example.com/courses/1"


def key(ifi: dict[str, Any]) -> str:
    return hashed(agent_key(ifi))


def test_an_agents_key_is_its_identifier_whatever_else_it_carries() -> None:
    assert index_keys({"actor": LI, "object": {"id": MEETING}}).actor == key(
        {"mbox": "mailto:li@school.cn"}
    )
    # Key order inside an account does not matter.
    reordered = {"account": {"homePage": "https://zhixue.example", "name": "wang"}}
    assert index_keys({"actor": WANG}).actor == index_keys({"actor": reordered}).actor


def test_related_keys_reach_context_groups_and_substatements() -> None:
    team = {"objectType": "Group", "member": [WANG]}
    inner = {
        "objectType": "SubStatement",
        "actor": WANG,
        "verb": {"id": "http://e.cn/v"},
        "object": {"id": MEETING},
        "context": {"contextActivities": {"parent": [{"id": PARENT}]}},
    }
    keys = index_keys({"actor": LI, "object": inner, "context": {"team": team}})

    assert keys.object is None  # a SubStatement is found through the related keys
    assert set(keys.related_agents) == {key({"mbox": LI["mbox"]}), key(WANG)}
    assert set(keys.related_activities) == {hashed(MEETING), hashed(PARENT)}
    long_iri = "http://e.cn/" + "活" * 2000
    assert len(index_keys({"object": {"id": long_iri}}).object or "") == 32


@pytest_asyncio.fixture
async def at_0013(pg_server: str) -> AsyncIterator[str]:
    name = f"yanxiu_test_m0014_{uuid.uuid4().hex[:8]}"
    url = await create_database(pg_server, name)
    try:
        cfg = alembic_config(service_dir("learning"), with_database(pg_server, name))
        await asyncio.to_thread(command.upgrade, cfg, "0013")
        yield asyncpg_url(url)
    finally:
        await drop_database(pg_server, name)


async def test_migration_0014_gives_stored_statements_their_keys(at_0013: str) -> None:
    provider, statement_id = uuid.uuid4(), uuid.uuid4()
    registration = str(uuid.uuid4()).upper()
    statement: dict[str, Any] = {
        "id": str(statement_id),
        "actor": LI,
        "verb": {"id": "http://adlnet.gov/expapi/verbs/attended"},
        "object": {"id": MEETING},
        "context": {"registration": registration},
    }
    engine = make_engine(at_0013)
    try:
        async with engine.begin() as conn:
            await conn.execute(
                text(
                    "INSERT INTO learning.providers (id, code, name, province_id, created_by,"
                    " created_at) VALUES (:p, 'old', '旧机构', '370000', 'test', now())"
                ),
                {"p": provider},
            )
            await conn.execute(
                text(
                    "INSERT INTO learning.xapi_statements (id, provider_id, statement, verb_id,"
                    " voided, stored) VALUES (:id, :p, CAST(:s AS jsonb), :v, false, now())"
                ),
                {
                    "id": statement_id,
                    "p": provider,
                    "s": orjson.dumps(statement).decode(),
                    "v": statement["verb"]["id"],
                },
            )
        cfg = alembic_config(service_dir("learning"), at_0013)
        await asyncio.to_thread(command.upgrade, cfg, "0014")
        async with engine.connect() as conn:
            row = (
                await conn.execute(
                    text(
                        "SELECT actor_key, object_key, registration, related_activities"
                        " FROM learning.xapi_statements"
                    )
                )
            ).one()
    finally:
        await engine.dispose()
    assert row.actor_key == key({"mbox": "mailto:li@school.cn"})
    assert row.object_key == hashed(MEETING)
    assert str(row.registration) == registration.lower()
    assert row.related_activities == [hashed(MEETING)]
