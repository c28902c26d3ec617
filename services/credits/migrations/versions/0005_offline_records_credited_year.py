"""offline records show the year the ledger counted them in

Revision ID: 0005
Revises: 0004
"""

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column(
        "offline_records",
        sa.Column("credited_year", sa.Integer(), nullable=True),
        schema="credits",
    )
    op.execute(
        "UPDATE credits.offline_records r SET credited_year = e.year FROM credits.ledger_entries e"
        " WHERE e.source_kind = 'offline' AND e.source_id = r.id::text"
        " AND e.teacher_id = r.teacher_id"
    )


def downgrade() -> None:
    op.drop_column("offline_records", "credited_year", schema="credits")
