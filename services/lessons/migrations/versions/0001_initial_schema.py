"""initial schema

Revision ID: 0001
Revises: -
"""

from yanxiu.kit.migrations import create_machinery_v1, drop_machinery_v1

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    create_machinery_v1("lessons")


def downgrade() -> None:
    drop_machinery_v1("lessons")
