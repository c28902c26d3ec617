"""audit trail: an append-only audit_log

Revision ID: 0006
Revises: 0005
"""

from yanxiu.kit.migrations import create_audit_v1, drop_audit_v1

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    create_audit_v1("credits")


def downgrade() -> None:
    drop_audit_v1("credits")
