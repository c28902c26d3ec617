"""courses, topics, rule sets, selections and attained hours

Revision ID: 0002
Revises: 0001
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

S = "learning"
# The 16 general topics (专题) of the 2020/2023 Shandong notices; also in learning/data/topics.json.
TOPICS = [
    ("ethics", "师德师风建设", True),
    ("class_management", "班级管理", False),
    ("traditional_culture", "中国优秀传统文化与教育", False),
    ("family_education", "家庭教育指导", False),
    ("mental_health", "学生心理健康教育", False),
    ("research_methods", "教育科研方法", False),
    ("theory_practice", "教育理论与实践", False),
    ("core_competencies", "学生发展核心素养", False),
    ("teacher_development", "教师专业发展", False),
    ("career_guidance", "学生发展与生涯规划指导", False),
    ("steam", "STEAM教育", False),
    ("labour", "劳动教育", False),
    ("safety", "安全教育", False),
    ("evaluation", "教育评价", False),
    ("school_innovation", "学校创新发展", False),
    ("new_curriculum", "新课程实施与评价", False),
]


def _created() -> sa.Column[object]:
    return sa.Column(
        "created_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False
    )


def upgrade() -> None:
    topics = op.create_table(
        "topics",
        sa.Column("id", sa.String(length=40), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("is_ethics", sa.Boolean(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_topics")),
        schema=S,
    )
    op.bulk_insert(topics, [{"id": i, "name": n, "is_ethics": e} for i, n, e in TOPICS])
    op.create_table(
        "courses",
        sa.Column("id", sa.UUID(), nullable=False),
        sa.Column("code", sa.String(length=60), nullable=False),
        sa.Column("title", sa.String(length=200), nullable=False),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("scope", sa.String(length=20), nullable=False),
        sa.Column("delivery", sa.String(length=20), nullable=False),
        sa.Column("topic_id", sa.String(length=40), nullable=True),
        sa.Column("hours", sa.Numeric(precision=5, scale=1), nullable=False),
        sa.Column("stages", postgresql.ARRAY(sa.String(length=20)), nullable=False),
        sa.Column("subjects", postgresql.ARRAY(sa.String(length=40)), nullable=False),
        sa.Column("video_seconds", sa.Integer(), nullable=False),
        sa.Column("pass_mark", sa.Integer(), nullable=True),
        sa.Column("assessment", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        _created(),
        sa.ForeignKeyConstraint(
            ["topic_id"], [f"{S}.topics.id"], name=op.f("fk_courses_topic_id_topics")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_courses")),
        sa.UniqueConstraint("code", name=op.f("uq_courses_code")),
        schema=S,
    )
    op.create_table(
        "project_rules",
        sa.Column("project_id", sa.UUID(), nullable=False),
        sa.Column("year", sa.Integer(), nullable=False),
        sa.Column("ruleset_code", sa.String(length=60), nullable=False),
        sa.Column("ruleset", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column("assigned_by", sa.String(length=64), nullable=False),
        sa.Column(
            "assigned_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.PrimaryKeyConstraint("project_id", name=op.f("pk_project_rules")),
        schema=S,
    )
    op.create_table(
        "school_topics",
        sa.Column("project_id", sa.UUID(), nullable=False),
        sa.Column("school_id", sa.String(length=40), nullable=False),
        sa.Column("topic_id", sa.String(length=40), nullable=False),
        sa.Column("chosen_by", sa.String(length=64), nullable=False),
        _created(),
        sa.ForeignKeyConstraint(
            ["topic_id"], [f"{S}.topics.id"], name=op.f("fk_school_topics_topic_id_topics")
        ),
        sa.PrimaryKeyConstraint(
            "project_id", "school_id", "topic_id", name=op.f("pk_school_topics")
        ),
        schema=S,
    )
    op.create_table(
        "selections",
        sa.Column("id", sa.UUID(), nullable=False),
        sa.Column("teacher_id", sa.UUID(), nullable=False),
        sa.Column("project_id", sa.UUID(), nullable=False),
        sa.Column("course_id", sa.UUID(), nullable=False),
        _created(),
        sa.ForeignKeyConstraint(
            ["course_id"], [f"{S}.courses.id"], name=op.f("fk_selections_course_id_courses")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_selections")),
        sa.UniqueConstraint(
            "teacher_id",
            "project_id",
            "course_id",
            name=op.f("uq_selections_teacher_id_project_id_course_id"),
        ),
        schema=S,
    )
    op.create_index(
        op.f("ix_selections_teacher_id"), "selections", ["teacher_id"], unique=False, schema=S
    )
    op.create_table(
        "completions",
        sa.Column("id", sa.UUID(), nullable=False),
        sa.Column("teacher_id", sa.UUID(), nullable=False),
        sa.Column("project_id", sa.UUID(), nullable=False),
        sa.Column("source", sa.String(length=20), nullable=False),
        sa.Column("source_ref", sa.String(length=200), nullable=False),
        sa.Column("course_id", sa.UUID(), nullable=True),
        sa.Column("course_code", sa.String(length=60), nullable=True),
        sa.Column("course_title", sa.String(length=200), nullable=False),
        sa.Column("category", sa.String(length=40), nullable=False),
        sa.Column("topic_id", sa.String(length=40), nullable=True),
        sa.Column("hours", sa.Numeric(precision=5, scale=1), nullable=False),
        sa.Column("provider_id", sa.String(length=64), nullable=True),
        sa.Column("completed_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("revoked_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("revoke_reason", sa.String(length=200), nullable=True),
        _created(),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_completions")),
        sa.UniqueConstraint("source", "source_ref", name=op.f("uq_completions_source_source_ref")),
        schema=S,
    )
    op.create_index(
        "ix_completions_teacher_project",
        "completions",
        ["teacher_id", "project_id"],
        unique=False,
        schema=S,
    )
    op.create_table(
        "attainments",
        sa.Column("teacher_id", sa.UUID(), nullable=False),
        sa.Column("project_id", sa.UUID(), nullable=False),
        sa.Column("met", sa.Boolean(), nullable=False),
        sa.Column("hours_by_category", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column("total_hours", sa.Numeric(precision=6, scale=1), nullable=False),
        sa.Column("evaluation_id", sa.UUID(), nullable=True),
        sa.Column(
            "evaluated_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.PrimaryKeyConstraint("teacher_id", "project_id", name=op.f("pk_attainments")),
        schema=S,
    )


def downgrade() -> None:
    op.drop_table("attainments", schema=S)
    op.drop_index("ix_completions_teacher_project", table_name="completions", schema=S)
    op.drop_table("completions", schema=S)
    op.drop_index(op.f("ix_selections_teacher_id"), table_name="selections", schema=S)
    op.drop_table("selections", schema=S)
    op.drop_table("school_topics", schema=S)
    op.drop_table("project_rules", schema=S)
    op.drop_table("courses", schema=S)
    op.drop_table("topics", schema=S)
