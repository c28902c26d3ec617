"""audit trail: an append-only audit_log

Revision ID: 0002
Revises: 0001
"""

from yanxiu.kit.migrations import create_audit_v1, drop_audit_v1

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    create_audit_v1("gateway")


def downgrade() -> None:
    drop_audit_v1("gateway")
