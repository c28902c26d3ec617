"""verified video progress and assessments

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

S = "learning"


def _now() -> sa.Column[object]:
    return sa.Column(
        "updated_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False
    )


def upgrade() -> None:
    op.create_table(
        "progress_viewers",
        sa.Column("teacher_id", sa.UUID(), nullable=False),
        sa.Column("session_id", sa.String(length=64), nullable=True),
        sa.Column(
            "retired_sessions",
            postgresql.ARRAY(sa.String(length=64)),
            server_default=sa.text("'{}'"),
            nullable=False,
        ),
        sa.Column("last_at", sa.DateTime(timezone=True), nullable=True),
        _now(),
        sa.PrimaryKeyConstraint("teacher_id", name=op.f("pk_progress_viewers")),
        schema=S,
    )
    op.create_table(
        "course_progress",
        sa.Column("id", sa.UUID(), nullable=False),
        sa.Column("teacher_id", sa.UUID(), nullable=False),
        sa.Column("project_id", sa.UUID(), nullable=False),
        sa.Column("course_id", sa.UUID(), nullable=False),
        sa.Column("province_id", sa.String(length=40), nullable=False),
        sa.Column("city_id", sa.String(length=40), nullable=False),
        sa.Column("county_id", sa.String(length=40), nullable=False),
        sa.Column("school_id", sa.String(length=40), nullable=False),
        sa.Column("video_seconds", sa.Integer(), nullable=False),
        sa.Column(
            "segments",
            postgresql.JSONB(astext_type=sa.Text()),
            server_default=sa.text("'[]'"),
            nullable=False,
        ),
        sa.Column("watched_seconds", sa.Float(), server_default=sa.text("0"), nullable=False),
        sa.Column("position", sa.Float(), server_default=sa.text("0"), nullable=False),
        sa.Column("last_session", sa.String(length=64), nullable=True),
        sa.Column("last_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("heartbeats", sa.Integer(), server_default=sa.text("0"), nullable=False),
        sa.Column("refused", sa.Integer(), server_default=sa.text("0"), nullable=False),
        sa.Column("watched_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("passed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("best_score", sa.Integer(), nullable=True),
        sa.Column("attempts", sa.Integer(), server_default=sa.text("0"), nullable=False),
        sa.Column("completed_at", sa.DateTime(timezone=True), nullable=True),
        _now(),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_course_progress")),
        sa.UniqueConstraint(
            "teacher_id",
            "course_id",
            "project_id",
            name=op.f("uq_course_progress_teacher_id_course_id_project_id"),
        ),
        schema=S,
    )
    op.create_table(
        "heartbeats",
        sa.Column("id", sa.BigInteger(), autoincrement=True, nullable=False),
        sa.Column("teacher_id", sa.UUID(), nullable=False),
        sa.Column("project_id", sa.UUID(), nullable=False),
        sa.Column("course_id", sa.UUID(), nullable=False),
        sa.Column("session_id", sa.String(length=64), nullable=False),
        sa.Column("position", sa.Float(), nullable=False),
        sa.Column("segments", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column("client_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("received_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("outcome", sa.String(length=30), nullable=False),
        sa.Column("credited_seconds", sa.Float(), server_default=sa.text("0"), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_heartbeats")),
        schema=S,
    )
    op.create_table(
        "progress_refusals",
        sa.Column("project_id", sa.UUID(), nullable=False),
        sa.Column("school_id", sa.String(length=40), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("reason", sa.String(length=30), nullable=False),
        sa.Column("province_id", sa.String(length=40), nullable=False),
        sa.Column("city_id", sa.String(length=40), nullable=False),
        sa.Column("county_id", sa.String(length=40), nullable=False),
        sa.Column("count", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint(
            "project_id", "school_id", "day", "reason", name=op.f("pk_progress_refusals")
        ),
        schema=S,
    )
    op.create_table(
        "assessment_attempts",
        sa.Column("id", sa.UUID(), nullable=False),
        sa.Column("teacher_id", sa.UUID(), nullable=False),
        sa.Column("project_id", sa.UUID(), nullable=False),
        sa.Column("course_id", sa.UUID(), nullable=False),
        sa.Column("answers", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column("score", sa.Integer(), nullable=False),
        sa.Column("pass_mark", sa.Integer(), nullable=False),
        sa.Column("passed", sa.Boolean(), nullable=False),
        sa.Column(
            "submitted_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_assessment_attempts")),
        schema=S,
    )
    op.create_index(
        op.f("ix_assessment_attempts_teacher_id"),
        "assessment_attempts",
        ["teacher_id"],
        unique=False,
        schema=S,
    )


def downgrade() -> None:
    op.drop_index(
        op.f("ix_assessment_attempts_teacher_id"), table_name="assessment_attempts", schema=S
    )
    op.drop_table("assessment_attempts", schema=S)
    op.drop_table("progress_refusals", schema=S)
    op.drop_table("heartbeats", schema=S)
    op.drop_table("course_progress", schema=S)
    op.drop_table("progress_viewers", schema=S)
