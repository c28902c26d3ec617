"""dead letters: what became of each record of the dead-letter topic (replayed, dropped)

Revision ID: 0010
Revises: 0009
"""

from yanxiu.kit.migrations import create_dlq_dispositions_v1, drop_dlq_dispositions_v1

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade() -> None:
    create_dlq_dispositions_v1("credits")


def downgrade() -> None:
    drop_dlq_dispositions_v1("credits")
