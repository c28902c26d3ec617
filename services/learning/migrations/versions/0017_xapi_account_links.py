"""xAPI account links (学员账号关联): a provider says that one of its xAPI agents (an Agent's
identifier, kept as canonical JSON and keyed by its hash as statements' `actor_key` is) is a
platform teacher; one link per provider and agent.

Revision ID: 0017
Revises: 0016
"""

import sqlalchemy as sa
from alembic import op

revision = "0017"
down_revision = "0016"
branch_labels = None
depends_on = None

S = "learning"


def upgrade() -> None:
    op.create_table(
        "xapi_account_links",
        sa.Column("id", sa.BigInteger(), sa.Identity(), nullable=False),
        sa.Column("provider_id", sa.UUID(), nullable=False),
        sa.Column("agent_key", sa.String(length=32), nullable=False),
        sa.Column("agent", sa.String(length=4096), nullable=False),
        sa.Column("teacher_id", sa.UUID(), nullable=False),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column(
            "updated_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.ForeignKeyConstraint(
            ["provider_id"],
            [f"{S}.providers.id"],
            name=op.f("fk_xapi_account_links_provider_id_providers"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_xapi_account_links")),
        sa.UniqueConstraint(
            "provider_id", "agent_key", name=op.f("uq_xapi_account_links_provider_id_agent_key")
        ),
        schema=S,
    )
    op.create_index(
        "ix_xapi_account_links_provider_teacher",
        "xapi_account_links",
        ["provider_id", "teacher_id", "id"],
        schema=S,
    )


def downgrade() -> None:
    op.drop_table("xapi_account_links", schema=S)
