"""xAPI mapping results: the problem that kept a completion statement from counting, in words
(Chinese with English beside it), next to its code.

Revision ID: 0016
Revises: 0015
"""

import sqlalchemy as sa
from alembic import op

revision = "0016"
down_revision = "0015"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column(
        "xapi_statements",
        sa.Column("mapping_detail", sa.String(length=500), nullable=True),
        schema="learning",
    )


def downgrade() -> None:
    op.drop_column("xapi_statements", "mapping_detail", schema="learning")
