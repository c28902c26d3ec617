"""outbox v2: the partition and offset the broker acknowledged each row at

Revision ID: 0006
Revises: 0005
"""

from yanxiu.kit.migrations import alter_outbox_v2, revert_outbox_v2

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    alter_outbox_v2("enrollment")


def downgrade() -> None:
    revert_outbox_v2("enrollment")
