"""outbox v2: the partition and offset the broker acknowledged each row at

Revision ID: 0008
Revises: 0007
"""

from yanxiu.kit.migrations import alter_outbox_v2, revert_outbox_v2

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    alter_outbox_v2("learning")


def downgrade() -> None:
    revert_outbox_v2("learning")
