"""plans.started_at (开始学习): when the teacher first made progress in the project (the first
accepted heartbeat or the first counted completion), set once, when StudyStarted is written.

Plans with progress before this revision get the earliest evidence that is left: the accepted
heartbeats still in the log, the completions (revoked ones too: they counted once), and the
course progress whose log was pruned (its watched / passed / completed / last times). No event
is written here: `learning.resync.service.resync` sends StudyStarted for every started plan.

Revision ID: 0019
Revises: 0018
"""

import sqlalchemy as sa
from alembic import op

revision = "0019"
down_revision = "0018"
branch_labels = None
depends_on = None

S = "learning"
BACKFILL = """
UPDATE learning.plans p SET started_at = e.at
FROM (
    SELECT teacher_id, project_id, min(at) AS at FROM (
        SELECT teacher_id, project_id, min(received_at) AS at FROM learning.heartbeats
        WHERE outcome = 'accepted' GROUP BY teacher_id, project_id
        UNION ALL
        SELECT teacher_id, project_id, min(completed_at) FROM learning.completions
        GROUP BY teacher_id, project_id
        UNION ALL
        SELECT teacher_id, project_id, min(LEAST(watched_at, passed_at, completed_at, last_at))
        FROM learning.course_progress WHERE heartbeats > refused
        GROUP BY teacher_id, project_id
    ) AS evidence
    WHERE at IS NOT NULL
    GROUP BY teacher_id, project_id
) AS e
WHERE p.teacher_id = e.teacher_id AND p.project_id = e.project_id AND p.started_at IS NULL
"""


def upgrade() -> None:
    op.add_column("plans", sa.Column("started_at", sa.DateTime(timezone=True)), schema=S)
    op.execute(sa.text(BACKFILL))


def downgrade() -> None:
    op.drop_column("plans", "started_at", schema=S)
