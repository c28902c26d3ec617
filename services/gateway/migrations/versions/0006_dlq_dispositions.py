"""dead letters: what became of each record of the dead-letter topic (replayed, dropped)

Revision ID: 0006
Revises: 0005
"""

from yanxiu.kit.migrations import create_dlq_dispositions_v1, drop_dlq_dispositions_v1

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    create_dlq_dispositions_v1("gateway")


def downgrade() -> None:
    drop_dlq_dispositions_v1("gateway")
