"""projects read model (year, stage, owner and named rule set, from enrollment's ProjectOpened):
who owns a project decides who may set its rules

Revision ID: 0011
Revises: 0010
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None

S = "learning"


def upgrade() -> None:
    # Empty at first: projects opened before this revision are learned when enrollment re-sends
    # their ProjectOpened; until then learning does not know their owner (the legacy rule).
    op.create_table(
        "projects",
        sa.Column("project_id", sa.UUID(), nullable=False),
        sa.Column("year", sa.Integer(), nullable=False),
        sa.Column("stage", sa.String(length=20), nullable=False),
        sa.Column("owner_org_id", sa.String(length=40), nullable=True),
        sa.Column("owner_org_path", postgresql.ARRAY(sa.String(length=40)), nullable=True),
        sa.Column("rule_set", sa.String(length=60), nullable=True),
        sa.Column(
            "updated_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.PrimaryKeyConstraint("project_id", name=op.f("pk_projects")),
        schema=S,
    )


def downgrade() -> None:
    op.drop_table("projects", schema=S)
