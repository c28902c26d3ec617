"""outbox v2: the partition and offset the broker acknowledged each row at

Revision ID: 0007
Revises: 0006
"""

from yanxiu.kit.migrations import alter_outbox_v2, revert_outbox_v2

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    alter_outbox_v2("lessons")


def downgrade() -> None:
    revert_outbox_v2("lessons")
