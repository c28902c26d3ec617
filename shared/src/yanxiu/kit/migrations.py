"""Alembic glue shared by every service: the env.py body, the machinery tables' first
migration, and a programmatic `upgrade` used by `make run` and the tests."""

from __future__ import annotations

import asyncio
from pathlib import Path

from alembic import command, context
from alembic.config import Config
from sqlalchemy import MetaData, pool, text
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import create_async_engine

from yanxiu.kit.db import asyncpg_url
from yanxiu.kit.tables import outbox_notify_sql


def run_env(target_metadata: MetaData) -> None:
    """The whole of a service's migrations/env.py: online, async, in the service's schema."""
    schema = target_metadata.schema
    url = context.config.get_main_option("sqlalchemy.url")
    assert url and schema

    def do_run(connection: Connection) -> None:
        connection.execute(text(f"CREATE SCHEMA IF NOT EXISTS {schema}"))
        context.configure(
            connection=connection,
            target_metadata=target_metadata,
            version_table_schema=schema,
            include_schemas=True,
            # Compare only this service's schema, so autogenerate and `alembic check` see
            # its existing tables and ignore the other services'.
            include_name=lambda name, type_, _parent: type_ != "schema" or name == schema,
        )
        with context.begin_transaction():
            context.run_migrations()

    async def run() -> None:
        engine = create_async_engine(asyncpg_url(url), poolclass=pool.NullPool)
        async with engine.begin() as conn:
            await conn.run_sync(do_run)
        await engine.dispose()

    asyncio.run(run())


def outbox_trigger_statements(schema: str) -> list[str]:
    """SQL for a service's first migration: the trigger that wakes the relay."""
    return outbox_notify_sql(schema)


def alembic_config(service_dir: Path, database_url: str) -> Config:
    cfg = Config(str(service_dir / "alembic.ini"))
    cfg.set_main_option("script_location", str(service_dir / "migrations"))
    cfg.set_main_option("sqlalchemy.url", asyncpg_url(database_url).replace("%", "%%"))
    return cfg


def upgrade_sync(service_dir: Path, database_url: str) -> None:
    command.upgrade(alembic_config(service_dir, database_url), "head")


async def upgrade(service_dir: Path, database_url: str) -> None:
    """Run a service's migrations to head (in a thread: env.py runs its own event loop)."""
    await asyncio.to_thread(upgrade_sync, service_dir, database_url)
