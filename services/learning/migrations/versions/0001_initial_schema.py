"""initial schema

Revision ID: 0001
Revises: -
"""

import sqlalchemy as sa
from alembic import op

from yanxiu.kit.migrations import create_machinery_v1, drop_machinery_v1

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "plans",
        sa.Column("id", sa.UUID(), nullable=False),
        sa.Column("teacher_id", sa.UUID(), nullable=False),
        sa.Column("project_id", sa.UUID(), nullable=False),
        sa.Column("registration_id", sa.UUID(), nullable=False),
        sa.Column("project_year", sa.Integer(), nullable=False),
        sa.Column("teacher_name", sa.String(length=50), nullable=False),
        sa.Column("stage", sa.String(length=20), nullable=False),
        sa.Column("subject", sa.String(length=40), nullable=False),
        sa.Column("province_id", sa.String(length=40), nullable=False),
        sa.Column("city_id", sa.String(length=40), nullable=False),
        sa.Column("county_id", sa.String(length=40), nullable=False),
        sa.Column("school_id", sa.String(length=40), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
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
        sa.PrimaryKeyConstraint("id", name=op.f("pk_plans")),
        sa.UniqueConstraint(
            "teacher_id", "project_id", name=op.f("uq_plans_teacher_id_project_id")
        ),
        schema="learning",
    )
    op.create_index(
        op.f("ix_plans_teacher_id"), "plans", ["teacher_id"], unique=False, schema="learning"
    )
    create_machinery_v1("learning")


def downgrade() -> None:
    drop_machinery_v1("learning")
    op.drop_index(op.f("ix_plans_teacher_id"), table_name="plans", schema="learning")
    op.drop_table("plans", schema="learning")
