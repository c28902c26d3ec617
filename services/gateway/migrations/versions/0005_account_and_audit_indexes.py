"""one account per teacher, enforced; indexes for subtree listing of accounts and the audit log

Revision ID: 0005
Revises: 0004
"""

import sqlalchemy as sa
from alembic import op

from yanxiu.kit.migrations import create_audit_indexes_v1, drop_audit_indexes_v1

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index(
        "uq_accounts_teacher",
        "accounts",
        ["teacher_id"],
        unique=True,
        schema="gateway",
        postgresql_where=sa.text("role = 'teacher'"),
    )
    op.create_index(
        "ix_accounts_org_path", "accounts", ["org_path"], schema="gateway", postgresql_using="gin"
    )
    create_audit_indexes_v1("gateway")


def downgrade() -> None:
    drop_audit_indexes_v1("gateway")
    op.drop_index("ix_accounts_org_path", "accounts", schema="gateway")
    op.drop_index("uq_accounts_teacher", "accounts", schema="gateway")
