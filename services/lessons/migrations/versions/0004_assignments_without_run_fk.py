"""assignments drop the foreign key to their run

Checking the key costs a lookup per row: fourteen of the twenty-three seconds an allocation
of three million assignments spent writing them. Runs are never deleted and are written in
the same transaction as their assignments, so the key guarded nothing.

Revision ID: 0004
Revises: 0003
"""

from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.drop_constraint(
        "fk_assignments_run_id_allocation_runs", "assignments", schema="lessons", type_="foreignkey"
    )


def downgrade() -> None:
    op.create_foreign_key(
        "fk_assignments_run_id_allocation_runs",
        "assignments",
        "allocation_runs",
        ["run_id"],
        ["id"],
        source_schema="lessons",
        referent_schema="lessons",
    )
