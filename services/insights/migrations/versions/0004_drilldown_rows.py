"""drilldown_rows: each org's line of its parent's drill-down table, one column per number
(a county's drill-down reads ~100 lines per scope instead of pivoting ~900 metric rows)

Revision ID: 0004
Revises: 0003
"""

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None

# column → the tally_totals metrics it sums (as insights.feed.tally.DRILLDOWN_COLUMNS then)
COLUMNS = {
    "registered": ("registered",),
    "plan_active": ("plan_active",),
    "started": ("started",),
    "requirements_met": ("requirements_met",),
    "reviews_assigned": ("reviews_assigned",),
    "reviews_done": ("reviews_done",),
    "credits_registered": ("credits_registered",),
    "certificates_issued": ("certificates_issued",),
    "offline_waiting": ("offline:submitted", "offline:county_passed"),
}


def upgrade() -> None:
    op.create_table(
        "drilldown_rows",
        sa.Column("scope", sa.String(length=48), nullable=False),
        sa.Column("org_id", sa.String(length=64), nullable=False),
        sa.Column("level", sa.SmallInteger(), nullable=False),
        sa.Column("parent_id", sa.String(length=64), nullable=False),
        *(
            sa.Column(column, sa.BigInteger(), server_default="0", nullable=False)
            for column in COLUMNS
        ),
        sa.PrimaryKeyConstraint("scope", "org_id", name=op.f("pk_drilldown_rows")),
        schema="insights",
    )
    # Covering: a drill-down reads its children's lines from the index alone.
    op.create_index(
        "ix_drilldown_rows_children",
        "drilldown_rows",
        ["scope", "parent_id"],
        unique=False,
        schema="insights",
        postgresql_include=["org_id", "level", *COLUMNS],
    )
    # Filled from the roll-up a database already holds.
    sums = ", ".join(
        f"coalesce(sum(value) FILTER (WHERE metric IN ({', '.join(repr(m) for m in metrics)})), 0)"
        for metrics in COLUMNS.values()
    )
    every = ", ".join(repr(m) for metrics in COLUMNS.values() for m in metrics)
    op.execute(
        f"INSERT INTO insights.drilldown_rows (scope, org_id, level, parent_id, "
        f"{', '.join(COLUMNS)}) "
        f"SELECT scope, org_id, min(level), min(parent_id), {sums} "
        f"FROM insights.tally_totals WHERE metric IN ({every}) GROUP BY scope, org_id"
    )


def downgrade() -> None:
    op.drop_index("ix_drilldown_rows_children", table_name="drilldown_rows", schema="insights")
    op.drop_table("drilldown_rows", schema="insights")
