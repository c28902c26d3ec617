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


def create_machinery_v1(schema: str) -> None:
    """For a service's first migration: outbox (with the trigger that wakes the relay), inbox
    and idempotency keys, as version 1 of `kit.tables` defined them. Frozen: a change to those
    tables is a new function used by a new migration."""
    import sqlalchemy as sa
    from alembic import op
    from sqlalchemy.dialects import postgresql

    op.create_table(
        "idempotency_keys",
        sa.Column("actor", sa.String(length=100), nullable=False),
        sa.Column("key", sa.String(length=200), nullable=False),
        sa.Column("request_hash", sa.String(length=64), nullable=False),
        sa.Column("status", sa.Integer(), nullable=False),
        sa.Column("body", postgresql.JSONB(astext_type=sa.Text()), nullable=True),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.PrimaryKeyConstraint("actor", "key", name=op.f("pk_idempotency_keys")),
        schema=schema,
    )
    op.create_table(
        "inbox",
        sa.Column("consumer", sa.String(length=200), nullable=False),
        sa.Column("event_id", sa.UUID(), nullable=False),
        sa.Column("event_type", sa.String(length=200), nullable=False),
        sa.Column(
            "processed_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.PrimaryKeyConstraint("consumer", "event_id", name=op.f("pk_inbox")),
        schema=schema,
    )
    op.create_table(
        "outbox",
        sa.Column("id", sa.BigInteger(), sa.Identity(always=False), nullable=False),
        sa.Column("event_id", sa.UUID(), nullable=False),
        sa.Column("topic", sa.String(length=200), nullable=False),
        sa.Column("key", sa.String(length=200), nullable=False),
        sa.Column("event_type", sa.String(length=200), nullable=False),
        sa.Column("payload", sa.LargeBinary(), nullable=False),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column("published_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_outbox")),
        sa.UniqueConstraint("event_id", name=op.f("uq_outbox_event_id")),
        schema=schema,
    )
    op.create_index(
        "ix_outbox_unpublished",
        "outbox",
        ["id"],
        unique=False,
        schema=schema,
        postgresql_where=sa.text("published_at IS NULL"),
    )
    for stmt in outbox_notify_sql(schema):
        op.execute(stmt)


def drop_machinery_v1(schema: str) -> None:
    from alembic import op

    op.execute(f"DROP TRIGGER IF EXISTS outbox_notify ON {schema}.outbox")
    op.execute(f"DROP FUNCTION IF EXISTS {schema}.outbox_notify()")
    for table in ("outbox", "inbox", "idempotency_keys"):
        op.drop_table(table, schema=schema)


def create_dlq_dispositions_v1(schema: str) -> None:
    """`kit.tables.dlq_dispositions_table`, version 1: what became of each dead letter
    (yanxiu.kit.dlq). Frozen like `create_machinery_v1`."""
    import sqlalchemy as sa
    from alembic import op

    op.create_table(
        "dlq_dispositions",
        sa.Column("dlq_partition", sa.Integer(), nullable=False),
        sa.Column("dlq_offset", sa.BigInteger(), nullable=False),
        sa.Column("record_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("event_type", sa.String(length=200), nullable=False),
        sa.Column("action", sa.String(length=20), nullable=False),
        sa.Column("actor", sa.String(length=100), nullable=False),
        sa.Column("reason", sa.Text(), nullable=True),
        sa.Column(
            "at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False
        ),
        sa.CheckConstraint(
            "action IN ('replayed', 'dropped')", name=op.f("ck_dlq_dispositions_action_known")
        ),
        sa.PrimaryKeyConstraint("dlq_partition", "dlq_offset", name=op.f("pk_dlq_dispositions")),
        schema=schema,
    )


def drop_dlq_dispositions_v1(schema: str) -> None:
    from alembic import op

    op.drop_table("dlq_dispositions", schema=schema)


def alter_outbox_v2(schema: str) -> None:
    """Version 2 of the outbox (`kit.tables.outbox_table`): the partition and offset the broker
    acknowledged each row at, and the index the relay reads them by (yanxiu.kit.broker_loss).
    Rows published before stay without; frozen like `create_machinery_v1`."""
    import sqlalchemy as sa
    from alembic import op

    op.add_column(
        "outbox", sa.Column("kafka_partition", sa.Integer(), nullable=True), schema=schema
    )
    op.add_column(
        "outbox", sa.Column("kafka_offset", sa.BigInteger(), nullable=True), schema=schema
    )
    op.create_index(
        "ix_outbox_kafka_offset",
        "outbox",
        ["topic", "kafka_partition", "kafka_offset"],
        unique=False,
        schema=schema,
        postgresql_where=sa.text("kafka_offset IS NOT NULL"),
    )


def revert_outbox_v2(schema: str) -> None:
    from alembic import op

    op.drop_index("ix_outbox_kafka_offset", table_name="outbox", schema=schema)
    op.drop_column("outbox", "kafka_offset", schema=schema)
    op.drop_column("outbox", "kafka_partition", schema=schema)


def create_audit_v1(schema: str) -> None:
    """The audit trail (`kit.tables.audit_table`, version 1) with a trigger that refuses
    UPDATE and DELETE: entries are only ever appended. Frozen like `create_machinery_v1`."""
    import sqlalchemy as sa
    from alembic import op
    from sqlalchemy.dialects import postgresql

    op.create_table(
        "audit_log",
        sa.Column("id", sa.BigInteger(), sa.Identity(always=False), nullable=False),
        sa.Column(
            "at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False
        ),
        sa.Column("actor_id", sa.String(length=100), nullable=False),
        sa.Column("actor_role", sa.String(length=40), nullable=False),
        sa.Column("actor_org", postgresql.ARRAY(sa.Text()), server_default="{}", nullable=False),
        sa.Column("action", sa.String(length=100), nullable=False),
        sa.Column("target_type", sa.String(length=60), nullable=False),
        sa.Column("target_id", sa.String(length=200), nullable=True),
        sa.Column("target_org", postgresql.ARRAY(sa.Text()), nullable=True),
        sa.Column("before", postgresql.JSONB(astext_type=sa.Text()), nullable=True),
        sa.Column("after", postgresql.JSONB(astext_type=sa.Text()), nullable=True),
        sa.Column("request_id", sa.String(length=100), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_audit_log")),
        schema=schema,
    )
    op.create_index("ix_audit_log_target", "audit_log", ["target_type", "target_id"], schema=schema)
    op.execute(
        f"""CREATE FUNCTION {schema}.audit_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
            BEGIN RAISE EXCEPTION 'the audit log is append-only'; END $$"""
    )
    op.execute(
        f"""CREATE TRIGGER audit_append_only BEFORE UPDATE OR DELETE ON {schema}.audit_log
            FOR EACH ROW EXECUTE FUNCTION {schema}.audit_append_only()"""
    )


def drop_audit_v1(schema: str) -> None:
    from alembic import op

    op.execute(f"DROP TRIGGER IF EXISTS audit_append_only ON {schema}.audit_log")
    op.execute(f"DROP FUNCTION IF EXISTS {schema}.audit_append_only()")
    op.drop_table("audit_log", schema=schema)


AUDIT_INDEXES_V1 = {
    "ix_audit_log_city": "((coalesce(target_org, actor_org))[2]), id",
    "ix_audit_log_county": "((coalesce(target_org, actor_org))[3]), id",
    "ix_audit_log_actor": "actor_id, id",
    "ix_audit_log_action": "action, id",
}


def create_audit_indexes_v1(schema: str) -> None:
    """The indexes the audit listing (`kit.audit_api`) reads by: a city's or county's entries,
    one actor's, one action's, each newest first (`kit.tables.audit_table(scope_indexes=True)`).
    Frozen like `create_audit_v1`."""
    from alembic import op

    for name, columns in AUDIT_INDEXES_V1.items():
        op.execute(f"CREATE INDEX {name} ON {schema}.audit_log ({columns})")


def drop_audit_indexes_v1(schema: str) -> None:
    from alembic import op

    for name in AUDIT_INDEXES_V1:
        op.execute(f"DROP INDEX IF EXISTS {schema}.{name}")


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
