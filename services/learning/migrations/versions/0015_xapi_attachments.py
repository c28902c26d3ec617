"""xAPI attachments: the content of attachments sent with statements (multipart/mixed), one row
per provider and SHA-2 hash, served back by statement reads with `attachments=true`.

Revision ID: 0015
Revises: 0014
"""

import sqlalchemy as sa
from alembic import op

revision = "0015"
down_revision = "0014"
branch_labels = None
depends_on = None

S = "learning"


def upgrade() -> None:
    op.create_table(
        "xapi_attachments",
        sa.Column("provider_id", sa.UUID(), nullable=False),
        sa.Column("sha2", sa.String(length=128), nullable=False),
        sa.Column("content_type", sa.String(length=255), nullable=False),
        sa.Column("content", sa.LargeBinary(), nullable=False),
        sa.Column(
            "stored", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False
        ),
        sa.ForeignKeyConstraint(
            ["provider_id"],
            [f"{S}.providers.id"],
            name=op.f("fk_xapi_attachments_provider_id_providers"),
        ),
        sa.PrimaryKeyConstraint("provider_id", "sha2", name=op.f("pk_xapi_attachments")),
        schema=S,
    )


def downgrade() -> None:
    op.drop_table("xapi_attachments", schema=S)
