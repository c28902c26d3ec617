"""audit trail listing: indexes by city, county, actor and action, newest first

Revision ID: 0006
Revises: 0005
"""

from yanxiu.kit.migrations import create_audit_indexes_v1, drop_audit_indexes_v1

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    create_audit_indexes_v1("lessons")


def downgrade() -> None:
    drop_audit_indexes_v1("lessons")
