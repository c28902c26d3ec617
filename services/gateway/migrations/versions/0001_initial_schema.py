"""initial schema

Revision ID: 0001
Revises: -
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "accounts",
        sa.Column("id", sa.UUID(), nullable=False),
        sa.Column("username", sa.String(length=100), nullable=False),
        sa.Column("password_hash", sa.String(length=200), nullable=False),
        sa.Column("role", sa.String(length=20), nullable=False),
        sa.Column("org_path", postgresql.ARRAY(sa.Text()), server_default="{}", nullable=False),
        sa.Column("name", sa.String(length=50), nullable=False),
        sa.Column("teacher_id", sa.UUID(), nullable=True),
        sa.Column("active", sa.Boolean(), server_default="true", nullable=False),
        sa.Column("failed_logins", sa.Integer(), server_default="0", nullable=False),
        sa.Column("locked_until", sa.DateTime(timezone=True), nullable=True),
        sa.Column("last_login_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.CheckConstraint(
            "role IN ('teacher', 'school_admin', 'county_admin', 'city_admin', "
            "'province_admin', 'workshop_host', 'expert', 'provider')",
            name=op.f("ck_accounts_role_known"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_accounts")),
        sa.UniqueConstraint("username", name=op.f("uq_accounts_username")),
        schema="gateway",
    )


def downgrade() -> None:
    op.drop_table("accounts", schema="gateway")
