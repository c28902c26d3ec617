"""initial schema: the kit's machinery (outbox, inbox, idempotency keys, audit log, dead-letter
dispositions) in the insights schema

Revision ID: 0001
Revises: -
"""

from yanxiu.kit.migrations import (
    alter_outbox_v2,
    create_audit_indexes_v1,
    create_audit_v1,
    create_dlq_dispositions_v1,
    create_machinery_v1,
    drop_audit_indexes_v1,
    drop_audit_v1,
    drop_dlq_dispositions_v1,
    drop_machinery_v1,
    revert_outbox_v2,
)

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    create_machinery_v1("insights")
    alter_outbox_v2("insights")
    create_audit_v1("insights")
    create_audit_indexes_v1("insights")
    create_dlq_dispositions_v1("insights")


def downgrade() -> None:
    drop_dlq_dispositions_v1("insights")
    drop_audit_indexes_v1("insights")
    drop_audit_v1("insights")
    revert_outbox_v2("insights")
    drop_machinery_v1("insights")
