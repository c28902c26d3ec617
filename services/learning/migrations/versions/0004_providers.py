"""providers, signed completions and xAPI statements

Revision ID: 0004
Revises: 0003
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None

S = "learning"


def _ts(name: str, *, default: bool = True, nullable: bool = False) -> sa.Column[object]:
    return sa.Column(
        name,
        sa.DateTime(timezone=True),
        server_default=sa.text("now()") if default else None,
        nullable=nullable,
    )


def upgrade() -> None:
    op.create_table(
        "providers",
        sa.Column("id", sa.UUID(), nullable=False),
        sa.Column("code", sa.String(length=40), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("province_id", sa.String(length=40), nullable=False),
        sa.Column("created_by", sa.String(length=64), nullable=False),
        _ts("created_at"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_providers")),
        sa.UniqueConstraint("code", name=op.f("uq_providers_code")),
        schema=S,
    )
    op.create_index(
        op.f("ix_providers_province_id"), "providers", ["province_id"], unique=False, schema=S
    )
    op.create_table(
        "provider_keys",
        sa.Column("id", sa.String(length=40), nullable=False),
        sa.Column("provider_id", sa.UUID(), nullable=False),
        sa.Column("secret_encrypted", sa.LargeBinary(), nullable=False),
        _ts("created_at"),
        _ts("revoked_at", default=False, nullable=True),
        _ts("last_used_at", default=False, nullable=True),
        sa.ForeignKeyConstraint(
            ["provider_id"],
            [f"{S}.providers.id"],
            name=op.f("fk_provider_keys_provider_id_providers"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_provider_keys")),
        schema=S,
    )
    op.create_index(
        op.f("ix_provider_keys_provider_id"),
        "provider_keys",
        ["provider_id"],
        unique=False,
        schema=S,
    )
    op.create_table(
        "provider_signatures",
        sa.Column("key_id", sa.String(length=40), nullable=False),
        sa.Column("signature", sa.String(length=64), nullable=False),
        _ts("seen_at"),
        sa.PrimaryKeyConstraint("key_id", "signature", name=op.f("pk_provider_signatures")),
        schema=S,
    )
    op.create_index(
        op.f("ix_provider_signatures_seen_at"),
        "provider_signatures",
        ["seen_at"],
        unique=False,
        schema=S,
    )
    op.create_table(
        "provider_events",
        sa.Column("provider_id", sa.UUID(), nullable=False),
        sa.Column("event_id", sa.String(length=200), nullable=False),
        sa.Column("body_hash", sa.String(length=64), nullable=False),
        sa.Column("completion_id", sa.UUID(), nullable=True),
        sa.Column("result", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        _ts("created_at"),
        _ts("retracted_at", default=False, nullable=True),
        sa.ForeignKeyConstraint(
            ["provider_id"],
            [f"{S}.providers.id"],
            name=op.f("fk_provider_events_provider_id_providers"),
        ),
        sa.PrimaryKeyConstraint("provider_id", "event_id", name=op.f("pk_provider_events")),
        schema=S,
    )
    op.create_table(
        "xapi_statements",
        sa.Column("id", sa.UUID(), nullable=False),
        sa.Column("provider_id", sa.UUID(), nullable=False),
        sa.Column("statement", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column("verb_id", sa.String(length=500), nullable=False),
        sa.Column("voids_id", sa.UUID(), nullable=True),
        sa.Column("voided", sa.Boolean(), nullable=False),
        sa.Column("completion_id", sa.UUID(), nullable=True),
        sa.Column("stored", sa.DateTime(timezone=True), nullable=False),
        sa.Column("seq", sa.BigInteger(), sa.Identity(always=False), nullable=False),
        sa.ForeignKeyConstraint(
            ["provider_id"],
            [f"{S}.providers.id"],
            name=op.f("fk_xapi_statements_provider_id_providers"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_xapi_statements")),
        sa.UniqueConstraint("seq", name=op.f("uq_xapi_statements_seq")),
        schema=S,
    )
    op.create_index(
        "ix_xapi_statements_provider_seq",
        "xapi_statements",
        ["provider_id", "seq"],
        unique=False,
        schema=S,
    )
    op.create_index(
        "ix_xapi_statements_voids_id", "xapi_statements", ["voids_id"], unique=False, schema=S
    )


def downgrade() -> None:
    op.drop_index("ix_xapi_statements_voids_id", table_name="xapi_statements", schema=S)
    op.drop_index("ix_xapi_statements_provider_seq", table_name="xapi_statements", schema=S)
    op.drop_table("xapi_statements", schema=S)
    op.drop_table("provider_events", schema=S)
    op.drop_index(
        op.f("ix_provider_signatures_seen_at"), table_name="provider_signatures", schema=S
    )
    op.drop_table("provider_signatures", schema=S)
    op.drop_index(op.f("ix_provider_keys_provider_id"), table_name="provider_keys", schema=S)
    op.drop_table("provider_keys", schema=S)
    op.drop_index(op.f("ix_providers_province_id"), table_name="providers", schema=S)
    op.drop_table("providers", schema=S)
