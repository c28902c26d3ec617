"""lessons, promotions, awards and quotas

The `lessons` table (创课) with the two recommendation rules as partial unique indexes (one lesson
per city × year × stage × grade × subject × textbook version × title at city level; one
recommended lesson per teacher and year) and CHECKs tying track, award and provincial selection
to the curriculum and level; the selections at each level; the awards; the per-city quota
counters (row-locked when a city awards).

Revision ID: 0002
Revises: 0001
"""

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

S = "lessons"


def upgrade() -> None:
    op.create_table(
        "lessons",
        sa.Column("id", sa.UUID(), nullable=False),
        sa.Column("year", sa.Integer(), nullable=False),
        sa.Column("teacher_id", sa.UUID(), nullable=False),
        sa.Column("teacher_name", sa.String(length=50), nullable=False),
        sa.Column("stage", sa.String(length=20), nullable=False),
        sa.Column("grade", sa.String(length=20), nullable=False),
        sa.Column("subject", sa.String(length=40), nullable=False),
        sa.Column("textbook_version", sa.String(length=60), nullable=False),
        sa.Column("title", sa.String(length=200), nullable=False),
        sa.Column("curriculum", sa.String(length=20), nullable=False),
        sa.Column("video_url", sa.String(length=500), nullable=False),
        sa.Column("province_id", sa.String(length=40), nullable=False),
        sa.Column("city_id", sa.String(length=40), nullable=False),
        sa.Column("county_id", sa.String(length=40), nullable=False),
        sa.Column("school_id", sa.String(length=40), nullable=False),
        sa.Column("level", sa.String(length=20), nullable=False),
        sa.Column("track", sa.String(length=20), nullable=False),
        sa.Column("national_platform_no", sa.String(length=60), nullable=True),
        sa.Column("award", sa.String(length=10), nullable=True),
        sa.Column("provincial", sa.Boolean(), server_default=sa.text("false"), nullable=False),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.CheckConstraint(
            "NOT provincial OR (track = 'competition' AND level = 'province')",
            name=op.f("ck_lessons_provincial"),
        ),
        sa.CheckConstraint(
            "award IS NULL OR (award IN ('first', 'second', 'third') AND track = 'competition'"
            " AND level IN ('city', 'province'))",
            name=op.f("ck_lessons_award"),
        ),
        sa.CheckConstraint(
            "curriculum IN ('national', 'local', 'school')", name=op.f("ck_lessons_curriculum")
        ),
        sa.CheckConstraint(
            "level IN ('teacher', 'school', 'county', 'city', 'province')",
            name=op.f("ck_lessons_level"),
        ),
        sa.CheckConstraint(
            "track = CASE WHEN curriculum = 'national' THEN 'competition' ELSE 'showcase' END",
            name=op.f("ck_lessons_track_follows_curriculum"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_lessons")),
        schema=S,
    )
    op.create_index("ix_lessons_city_id_year", "lessons", ["city_id", "year"], schema=S)
    op.create_index("ix_lessons_county_id_id", "lessons", ["county_id", "id"], schema=S)
    op.create_index("ix_lessons_school_id_id", "lessons", ["school_id", "id"], schema=S)
    op.create_index("ix_lessons_pool", "lessons", ["year", "stage", "subject", "level"], schema=S)
    op.create_index(op.f("ix_lessons_teacher_id"), "lessons", ["teacher_id"], schema=S)
    op.create_index(op.f("ix_lessons_year"), "lessons", ["year"], schema=S)
    op.create_index(
        "uq_lessons_city_lesson",
        "lessons",
        ["city_id", "year", "stage", "grade", "subject", "textbook_version", "title"],
        unique=True,
        schema=S,
        postgresql_where=sa.text("level IN ('city', 'province')"),
    )
    op.create_index(
        "uq_lessons_teacher_year",
        "lessons",
        ["teacher_id", "year"],
        unique=True,
        schema=S,
        postgresql_where=sa.text("level <> 'teacher'"),
    )

    op.create_table(
        "lesson_promotions",
        sa.Column("id", sa.BigInteger(), sa.Identity(always=False), nullable=False),
        sa.Column("lesson_id", sa.UUID(), nullable=False),
        sa.Column("level", sa.String(length=20), nullable=False),
        sa.Column("org_id", sa.String(length=40), nullable=False),
        sa.Column("promoted_by", sa.String(length=100), nullable=False),
        sa.Column(
            "promoted_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.ForeignKeyConstraint(
            ["lesson_id"], [f"{S}.lessons.id"], name=op.f("fk_lesson_promotions_lesson_id_lessons")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_lesson_promotions")),
        sa.UniqueConstraint(
            "lesson_id", "level", name=op.f("uq_lesson_promotions_lesson_id_level")
        ),
        schema=S,
    )
    op.create_index(
        op.f("ix_lesson_promotions_lesson_id"), "lesson_promotions", ["lesson_id"], schema=S
    )

    op.create_table(
        "lesson_awards",
        sa.Column("id", sa.UUID(), nullable=False),
        sa.Column("lesson_id", sa.UUID(), nullable=False),
        sa.Column("year", sa.Integer(), nullable=False),
        sa.Column("city_id", sa.String(length=40), nullable=False),
        sa.Column("scope", sa.String(length=10), nullable=False),
        sa.Column("award", sa.String(length=12), nullable=False),
        sa.Column("awarded_by", sa.String(length=100), nullable=False),
        sa.Column(
            "awarded_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.CheckConstraint(
            "(scope = 'city' AND award IN ('first', 'second', 'third'))"
            " OR (scope = 'province' AND award = 'provincial')",
            name=op.f("ck_lesson_awards_award_scope"),
        ),
        sa.ForeignKeyConstraint(
            ["lesson_id"], [f"{S}.lessons.id"], name=op.f("fk_lesson_awards_lesson_id_lessons")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_lesson_awards")),
        sa.UniqueConstraint("lesson_id", "scope", name=op.f("uq_lesson_awards_lesson_id_scope")),
        schema=S,
    )
    op.create_index(op.f("ix_lesson_awards_lesson_id"), "lesson_awards", ["lesson_id"], schema=S)

    op.create_table(
        "city_quota_counters",
        sa.Column("year", sa.Integer(), nullable=False),
        sa.Column("city_id", sa.String(length=40), nullable=False),
        sa.Column("award", sa.String(length=10), nullable=False),
        sa.Column("quota", sa.Integer(), nullable=False),
        sa.Column("used", sa.Integer(), nullable=False),
        sa.CheckConstraint(
            "used >= 0 AND used <= quota", name=op.f("ck_city_quota_counters_within_quota")
        ),
        sa.PrimaryKeyConstraint("year", "city_id", "award", name=op.f("pk_city_quota_counters")),
        schema=S,
    )


def downgrade() -> None:
    op.drop_table("city_quota_counters", schema=S)
    op.drop_index(op.f("ix_lesson_awards_lesson_id"), table_name="lesson_awards", schema=S)
    op.drop_table("lesson_awards", schema=S)
    op.drop_index(op.f("ix_lesson_promotions_lesson_id"), table_name="lesson_promotions", schema=S)
    op.drop_table("lesson_promotions", schema=S)
    for name in (
        "uq_lessons_teacher_year",
        "uq_lessons_city_lesson",
        op.f("ix_lessons_year"),
        op.f("ix_lessons_teacher_id"),
        "ix_lessons_pool",
        "ix_lessons_city_id_year",
        "ix_lessons_county_id_id",
        "ix_lessons_school_id_id",
    ):
        op.drop_index(name, table_name="lessons", schema=S)
    op.drop_table("lessons", schema=S)
