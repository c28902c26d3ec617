"""The machinery tables every service schema carries: outbox, inbox, idempotency keys."""

from __future__ import annotations

from typing import Any

from sqlalchemy import (
    BigInteger,
    CheckConstraint,
    Column,
    ColumnElement,
    DateTime,
    Identity,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Table,
    Text,
    func,
    literal_column,
    text,
)
from sqlalchemy.dialects.postgresql import ARRAY, JSONB, UUID


def outbox_table(metadata: MetaData) -> Table:
    """Events waiting for the relay, written in the same transaction as the change."""
    return Table(
        "outbox",
        metadata,
        Column("id", BigInteger, Identity(), primary_key=True),
        Column("event_id", UUID(as_uuid=True), nullable=False, unique=True),
        Column("topic", String(200), nullable=False),
        Column("key", String(200), nullable=False),
        Column("event_type", String(200), nullable=False),
        Column("payload", LargeBinary, nullable=False),
        Column("created_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
        Column("published_at", DateTime(timezone=True), nullable=True),
        # Where the broker acknowledged the row (version 2): what the relay checks the broker
        # still holds, and what it re-sends when it does not (yanxiu.kit.broker_loss).
        Column("kafka_partition", Integer, nullable=True),
        Column("kafka_offset", BigInteger, nullable=True),
        # The relay only ever scans unpublished rows, in id order.
        Index("ix_outbox_unpublished", "id", postgresql_where=text("published_at IS NULL")),
        # The highest acknowledged offset of each partition, and the row at an offset.
        Index(
            "ix_outbox_kafka_offset",
            "topic",
            "kafka_partition",
            "kafka_offset",
            postgresql_where=text("kafka_offset IS NOT NULL"),
        ),
    )


def inbox_table(metadata: MetaData) -> Table:
    """Event ids a consumer group has processed; the row commits with the handler's effect."""
    return Table(
        "inbox",
        metadata,
        Column("consumer", String(200), primary_key=True),
        Column("event_id", UUID(as_uuid=True), primary_key=True),
        Column("event_type", String(200), nullable=False),
        Column("processed_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    )


def dlq_dispositions_table(metadata: MetaData) -> Table:
    """What became of each record of the service's dead-letter topic (yanxiu.kit.dlq):
    replayed or dropped, by whom and why. The record's timestamp tells it from one that a
    re-created topic later put at the same offset."""
    return Table(
        "dlq_dispositions",
        metadata,
        Column("dlq_partition", Integer, primary_key=True),
        Column("dlq_offset", BigInteger, primary_key=True),
        Column("record_at", DateTime(timezone=True), nullable=False),
        Column("event_type", String(200), nullable=False),
        Column("action", String(20), nullable=False),
        Column("actor", String(100), nullable=False),
        Column("reason", Text, nullable=True),
        Column("at", DateTime(timezone=True), nullable=False, server_default=func.now()),
        CheckConstraint("action IN ('replayed', 'dropped')", name="action_known"),
    )


def idempotency_table(metadata: MetaData) -> Table:
    """Responses to writes sent with an Idempotency-Key, replayed on retry."""
    return Table(
        "idempotency_keys",
        metadata,
        Column("actor", String(100), primary_key=True),
        Column("key", String(200), primary_key=True),
        Column("request_hash", String(64), nullable=False),
        Column("status", Integer, nullable=False),
        Column("body", JSONB, nullable=True),
        Column("created_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    )


def audit_scope(table: Table) -> ColumnElement[Any]:
    """The org path an entry is listed under: the record's (`target_org`), or for records
    that keep none (a course, a rule set) the actor's."""
    return func.coalesce(table.c.target_org, table.c.actor_org)


def audit_scope_level(table: Table, depth: int) -> ColumnElement[Any]:
    """The org id at `depth` (2 = city, 3 = county) of an entry's scope path. The subscript is
    rendered as a literal, not a bound value, so that queries match the indexes below."""
    return audit_scope(table)[literal_column(str(depth), Integer)]


def audit_table(metadata: MetaData, *, scope_indexes: bool = False) -> Table:
    """The append-only audit trail (yanxiu.kit.audit): who did what to which record, with the
    record's org path (for scoped listing) and its masked state before and after.

    `scope_indexes` adds the indexes the listing (yanxiu.kit.audit_api) reads newest first by:
    a city's or a county's entries, one actor's, one action's (the services' migrations
    `create_audit_indexes_v1`)."""
    table = Table(
        "audit_log",
        metadata,
        Column("id", BigInteger, Identity(), primary_key=True),
        Column("at", DateTime(timezone=True), nullable=False, server_default=func.now()),
        Column("actor_id", String(100), nullable=False),
        Column("actor_role", String(40), nullable=False),
        Column("actor_org", ARRAY(Text), nullable=False, server_default="{}"),
        Column("action", String(100), nullable=False),
        Column("target_type", String(60), nullable=False),
        Column("target_id", String(200), nullable=True),
        Column("target_org", ARRAY(Text), nullable=True),
        Column("before", JSONB, nullable=True),
        Column("after", JSONB, nullable=True),
        Column("request_id", String(100), nullable=True),
        Index("ix_audit_log_target", "target_type", "target_id"),
    )
    if scope_indexes:
        for depth, level in ((2, "city"), (3, "county")):
            Index(f"ix_audit_log_{level}", audit_scope_level(table, depth), table.c.id)
        Index("ix_audit_log_actor", table.c.actor_id, table.c.id)
        Index("ix_audit_log_action", table.c.action, table.c.id)
    return table


def machinery_tables(metadata: MetaData) -> dict[str, Table]:
    return {
        "outbox": outbox_table(metadata),
        "inbox": inbox_table(metadata),
        "idempotency_keys": idempotency_table(metadata),
        "audit_log": audit_table(metadata, scope_indexes=True),
        "dlq_dispositions": dlq_dispositions_table(metadata),
    }


def outbox_notify_sql(schema: str) -> list[str]:
    """A statement-level trigger that wakes the relay (LISTEN) when outbox rows commit."""
    channel = outbox_channel(schema)
    return [
        f"""CREATE OR REPLACE FUNCTION {schema}.outbox_notify() RETURNS trigger
            LANGUAGE plpgsql AS $$ BEGIN PERFORM pg_notify('{channel}', ''); RETURN NULL; END $$""",
        f"""CREATE TRIGGER outbox_notify AFTER INSERT ON {schema}.outbox
            FOR EACH STATEMENT EXECUTE FUNCTION {schema}.outbox_notify()""",
    ]


def outbox_channel(schema: str) -> str:
    return f"yanxiu_outbox_{schema}"
