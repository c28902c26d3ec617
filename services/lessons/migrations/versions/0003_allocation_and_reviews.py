"""review pools, allocation runs, assignments and reviews

Revision ID: 0003
Revises: 0002
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "allocation_runs",
        sa.Column("id", sa.UUID(), nullable=False),
        sa.Column("project_id", sa.UUID(), nullable=False),
        sa.Column("year", sa.Integer(), nullable=False),
        sa.Column("seed", sa.Integer(), nullable=False),
        sa.Column("params", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column("summary", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column("assignments", sa.Integer(), nullable=False),
        sa.Column("run_by", sa.String(length=64), nullable=False),
        sa.Column(
            "started_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column("finished_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_allocation_runs")),
        schema="lessons",
    )
    op.create_index(
        op.f("ix_allocation_runs_project_id"),
        "allocation_runs",
        ["project_id"],
        unique=False,
        schema="lessons",
    )
    op.create_table(
        "lesson_flags",
        sa.Column("id", sa.UUID(), nullable=False),
        sa.Column("lesson_id", sa.UUID(), nullable=False),
        sa.Column("reviewer_id", sa.UUID(), nullable=False),
        sa.Column("reason", sa.String(length=500), nullable=False),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_lesson_flags")),
        sa.UniqueConstraint(
            "lesson_id", "reviewer_id", name=op.f("uq_lesson_flags_lesson_id_reviewer_id")
        ),
        schema="lessons",
    )
    op.create_index(
        op.f("ix_lesson_flags_lesson_id"),
        "lesson_flags",
        ["lesson_id"],
        unique=False,
        schema="lessons",
    )
    op.create_table(
        "reviewers",
        sa.Column("project_id", sa.UUID(), nullable=False),
        sa.Column("teacher_id", sa.UUID(), nullable=False),
        sa.Column("year", sa.Integer(), nullable=False),
        sa.Column("teacher_name", sa.String(length=50), nullable=False),
        sa.Column("stage", sa.String(length=20), nullable=False),
        sa.Column("subject", sa.String(length=40), nullable=False),
        sa.Column("province_id", sa.String(length=40), nullable=False),
        sa.Column("city_id", sa.String(length=40), nullable=False),
        sa.Column("county_id", sa.String(length=40), nullable=False),
        sa.Column("school_id", sa.String(length=40), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.PrimaryKeyConstraint("project_id", "teacher_id", name=op.f("pk_reviewers")),
        schema="lessons",
    )
    op.create_table(
        "assignments",
        sa.Column("id", sa.UUID(), nullable=False),
        sa.Column("run_id", sa.UUID(), nullable=False),
        sa.Column("project_id", sa.UUID(), nullable=False),
        sa.Column("reviewer_id", sa.UUID(), nullable=False),
        sa.Column("lesson_id", sa.UUID(), nullable=False),
        sa.Column(
            "assigned_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.ForeignKeyConstraint(
            ["run_id"],
            ["lessons.allocation_runs.id"],
            name=op.f("fk_assignments_run_id_allocation_runs"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_assignments")),
        sa.UniqueConstraint(
            "reviewer_id",
            "lesson_id",
            "project_id",
            name=op.f("uq_assignments_reviewer_id_lesson_id_project_id"),
        ),
        schema="lessons",
    )
    op.create_table(
        "reviews",
        sa.Column("id", sa.UUID(), nullable=False),
        sa.Column("assignment_id", sa.UUID(), nullable=False),
        sa.Column("lesson_id", sa.UUID(), nullable=False),
        sa.Column("reviewer_id", sa.UUID(), nullable=False),
        sa.Column("project_id", sa.UUID(), nullable=False),
        sa.Column("scores", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column("total_score", sa.Numeric(precision=5, scale=1), nullable=False),
        sa.Column("comment", sa.String(length=2000), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column(
            "submitted_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column("revoked_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("revoked_by", sa.String(length=64), nullable=True),
        sa.Column("revoke_reason", sa.String(length=500), nullable=True),
        sa.ForeignKeyConstraint(
            ["assignment_id"],
            ["lessons.assignments.id"],
            name=op.f("fk_reviews_assignment_id_assignments"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_reviews")),
        sa.UniqueConstraint("assignment_id", name=op.f("uq_reviews_assignment_id")),
        schema="lessons",
    )
    op.create_index(
        op.f("ix_reviews_lesson_id"), "reviews", ["lesson_id"], unique=False, schema="lessons"
    )
    op.create_index(
        op.f("ix_reviews_reviewer_id"), "reviews", ["reviewer_id"], unique=False, schema="lessons"
    )


def downgrade() -> None:
    op.drop_index(op.f("ix_reviews_reviewer_id"), table_name="reviews", schema="lessons")
    op.drop_index(op.f("ix_reviews_lesson_id"), table_name="reviews", schema="lessons")
    op.drop_table("reviews", schema="lessons")
    op.drop_table("assignments", schema="lessons")
    op.drop_table("reviewers", schema="lessons")
    op.drop_index(op.f("ix_lesson_flags_lesson_id"), table_name="lesson_flags", schema="lessons")
    op.drop_table("lesson_flags", schema="lessons")
    op.drop_index(
        op.f("ix_allocation_runs_project_id"), table_name="allocation_runs", schema="lessons"
    )
    op.drop_table("allocation_runs", schema="lessons")
