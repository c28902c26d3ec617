"""audit trail listing: indexes by city, county, actor and action, newest first

Revision ID: 0007
Revises: 0006
"""

from yanxiu.kit.migrations import create_audit_indexes_v1, drop_audit_indexes_v1

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    create_audit_indexes_v1("credits")


def downgrade() -> None:
    drop_audit_indexes_v1("credits")
