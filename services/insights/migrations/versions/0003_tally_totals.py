"""tally_totals: the tallies rolled up over stage, subject and area, what a dashboard without
a filter reads (a county's drill-down reads one row per school and metric)

Revision ID: 0003
Revises: 0002
"""

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "tally_totals",
        sa.Column("scope", sa.String(length=48), nullable=False),
        sa.Column("org_id", sa.String(length=64), nullable=False),
        sa.Column("metric", sa.String(length=64), nullable=False),
        sa.Column("level", sa.SmallInteger(), nullable=False),
        sa.Column("parent_id", sa.String(length=64), nullable=False),
        sa.Column("value", sa.Numeric(precision=14, scale=2), nullable=False),
        sa.PrimaryKeyConstraint("scope", "org_id", "metric", name=op.f("pk_tally_totals")),
        schema="insights",
    )
    # Covering: a drill-down reads its children's rows from the index alone.
    op.create_index(
        "ix_tally_totals_children",
        "tally_totals",
        ["scope", "parent_id"],
        unique=False,
        schema="insights",
        postgresql_include=["org_id", "level", "metric", "value"],
    )
    # Filled from the tallies a database already holds.
    op.execute(
        "INSERT INTO insights.tally_totals (scope, org_id, metric, level, parent_id, value) "
        "SELECT scope, org_id, metric, min(level), min(parent_id), sum(value) "
        "FROM insights.tallies GROUP BY scope, org_id, metric"
    )


def downgrade() -> None:
    op.drop_index("ix_tally_totals_children", table_name="tally_totals", schema="insights")
    op.drop_table("tally_totals", schema="insights")
