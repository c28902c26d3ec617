"""xAPI document resources: State, Activity Profile and Agent Profile documents, each keyed by
its provider (every provider has its own documents), kind, activity, agent, registration and id
(hashed into `scope` and `document_key`);
kept as sent (bytes and content type) with the SHA-1 ETag of the content.

Revision ID: 0013
Revises: 0012
"""

import sqlalchemy as sa
from alembic import op

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None

S = "learning"
KINDS = "'state', 'activity_profile', 'agent_profile'"


def upgrade() -> None:
    op.create_table(
        "xapi_documents",
        sa.Column("id", sa.BigInteger(), sa.Identity(), nullable=False),
        sa.Column("provider_id", sa.UUID(), nullable=False),
        sa.Column("kind", sa.String(length=20), nullable=False),
        # '' where the kind has none (an agent profile has no activity, and so on).
        sa.Column("activity_id", sa.String(length=2048), nullable=False),
        sa.Column("agent_key", sa.String(length=1024), nullable=False),
        sa.Column("registration", sa.String(length=36), nullable=False),
        sa.Column("document_id", sa.String(length=1024), nullable=False),
        # SHA-256 of (kind, activity, agent, registration) and of the document id: the keys
        # (index entries stay short, however long the IRIs).
        sa.Column("scope", sa.String(length=64), nullable=False),
        sa.Column("document_key", sa.String(length=64), nullable=False),
        sa.Column("content", sa.LargeBinary(), nullable=False),
        sa.Column("content_type", sa.String(length=255), nullable=False),
        sa.Column("etag", sa.String(length=40), nullable=False),
        sa.Column("updated", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint(f"kind IN ({KINDS})", name=op.f("ck_xapi_documents_kind")),
        sa.ForeignKeyConstraint(
            ["provider_id"],
            [f"{S}.providers.id"],
            name=op.f("fk_xapi_documents_provider_id_providers"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_xapi_documents")),
        schema=S,
    )
    op.create_index(
        "ix_xapi_documents_key",
        "xapi_documents",
        ["provider_id", "scope", "document_key"],
        unique=True,
        schema=S,
    )


def downgrade() -> None:
    op.drop_table("xapi_documents", schema=S)
