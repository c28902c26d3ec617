"""reviewers: an index on teacher_id

A transfer or a departure (and a read of a teacher's assignments) finds the teacher's pool
memberships across projects; the key is (project, teacher), so without this each one scanned
the table.

Revision ID: 0008
Revises: 0007
"""

from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index("ix_reviewers_teacher_id", "reviewers", ["teacher_id"], schema="lessons")


def downgrade() -> None:
    op.drop_index("ix_reviewers_teacher_id", table_name="reviewers", schema="lessons")
