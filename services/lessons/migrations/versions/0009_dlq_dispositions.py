"""dead letters: what became of each record of the dead-letter topic (replayed, dropped)

Revision ID: 0009
Revises: 0008
"""

from yanxiu.kit.migrations import create_dlq_dispositions_v1, drop_dlq_dispositions_v1

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    create_dlq_dispositions_v1("lessons")


def downgrade() -> None:
    drop_dlq_dispositions_v1("lessons")
