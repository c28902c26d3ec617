"""audit trail: an append-only audit_log

Revision ID: 0004
Revises: 0003
"""

from yanxiu.kit.migrations import create_audit_v1, drop_audit_v1

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    create_audit_v1("enrollment")


def downgrade() -> None:
    drop_audit_v1("enrollment")
