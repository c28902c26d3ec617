"""dead letters: what became of each record of the dead-letter topic (replayed, dropped)

Revision ID: 0008
Revises: 0007
"""

from yanxiu.kit.migrations import create_dlq_dispositions_v1, drop_dlq_dispositions_v1

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    create_dlq_dispositions_v1("enrollment")


def downgrade() -> None:
    drop_dlq_dispositions_v1("enrollment")
