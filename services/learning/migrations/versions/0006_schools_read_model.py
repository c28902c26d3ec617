"""schools read model (where each school sits, from enrollment's events), filled from the plans

Revision ID: 0006
Revises: 0005
"""

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None

S = "learning"


def upgrade() -> None:
    op.create_table(
        "schools",
        sa.Column("school_id", sa.String(length=40), nullable=False),
        sa.Column("province_id", sa.String(length=40), nullable=False),
        sa.Column("city_id", sa.String(length=40), nullable=False),
        sa.Column("county_id", sa.String(length=40), nullable=False),
        sa.Column(
            "updated_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.PrimaryKeyConstraint("school_id", name=op.f("pk_schools")),
        schema=S,
    )
    # The schools the plans already name (each plan came from a TeacherRegistered event that
    # carried the school's org path), so topic choices stay readable after the upgrade.
    op.execute(
        f"INSERT INTO {S}.schools (school_id, province_id, city_id, county_id) "
        f"SELECT DISTINCT ON (school_id) school_id, province_id, city_id, county_id "
        f"FROM {S}.plans ORDER BY school_id, updated_at DESC"
    )


def downgrade() -> None:
    op.drop_table("schools", schema=S)
