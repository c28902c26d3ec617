"""audit trail listing: indexes by city, county, actor and action, newest first

Revision ID: 0005
Revises: 0004
"""

from yanxiu.kit.migrations import create_audit_indexes_v1, drop_audit_indexes_v1

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    create_audit_indexes_v1("enrollment")


def downgrade() -> None:
    drop_audit_indexes_v1("enrollment")
