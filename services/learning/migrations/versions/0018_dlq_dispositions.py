"""dead letters: what became of each record of the dead-letter topic (replayed, dropped)

Revision ID: 0018
Revises: 0017
"""

from yanxiu.kit.migrations import create_dlq_dispositions_v1, drop_dlq_dispositions_v1

revision = "0018"
down_revision = "0017"
branch_labels = None
depends_on = None


def upgrade() -> None:
    create_dlq_dispositions_v1("learning")


def downgrade() -> None:
    drop_dlq_dispositions_v1("learning")
