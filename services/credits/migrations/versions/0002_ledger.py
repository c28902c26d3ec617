"""the credit ledger, region rule sets and read models

Revision ID: 0002
Revises: 0001
"""

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "ledger_entries",
        sa.Column("id", sa.UUID(), nullable=False),
        sa.Column("teacher_id", sa.UUID(), nullable=False),
        sa.Column("year", sa.Integer(), nullable=False),
        sa.Column("region", sa.String(length=40), nullable=False),
        sa.Column("category", sa.String(length=40), nullable=False),
        sa.Column("hours", sa.Numeric(precision=7, scale=1), nullable=False),
        sa.Column("source_kind", sa.String(length=20), nullable=False),
        sa.Column("source_id", sa.String(length=200), nullable=False),
        sa.Column("description", sa.String(length=300), nullable=False),
        sa.Column("reason", sa.String(length=500), nullable=True),
        sa.Column("actor", sa.String(length=64), nullable=True),
        sa.Column("province_id", sa.String(length=40), nullable=False),
        sa.Column("city_id", sa.String(length=40), nullable=False),
        sa.Column("county_id", sa.String(length=40), nullable=False),
        sa.Column("school_id", sa.String(length=40), nullable=False),
        sa.Column("occurred_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column(
            "recorded_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_ledger_entries")),
        sa.UniqueConstraint(
            "teacher_id",
            "source_kind",
            "source_id",
            name=op.f("uq_ledger_entries_teacher_id_source_kind_source_id"),
        ),
        schema="credits",
    )
    op.create_index(
        "ix_ledger_entries_teacher_recorded",
        "ledger_entries",
        ["teacher_id", "recorded_at"],
        unique=False,
        schema="credits",
    )
    op.create_table(
        "ledger_totals",
        sa.Column("teacher_id", sa.UUID(), nullable=False),
        sa.Column("year", sa.Integer(), nullable=False),
        sa.Column("category", sa.String(length=40), nullable=False),
        sa.Column("region", sa.String(length=40), nullable=False),
        sa.Column("hours", sa.Numeric(precision=9, scale=1), nullable=False),
        sa.PrimaryKeyConstraint("teacher_id", "year", "category", name=op.f("pk_ledger_totals")),
        schema="credits",
    )
    op.create_table(
        "teacher_years",
        sa.Column("teacher_id", sa.UUID(), nullable=False),
        sa.Column("year", sa.Integer(), nullable=False),
        sa.Column("region", sa.String(length=40), nullable=False),
        sa.Column("province_id", sa.String(length=40), nullable=False),
        sa.Column("city_id", sa.String(length=40), nullable=False),
        sa.Column("county_id", sa.String(length=40), nullable=False),
        sa.Column("school_id", sa.String(length=40), nullable=False),
        sa.Column("recorded_hours", sa.Numeric(precision=9, scale=1), nullable=False),
        sa.Column("counted_hours", sa.Numeric(precision=9, scale=1), nullable=False),
        sa.Column("complete", sa.Boolean(), nullable=False),
        sa.Column(
            "updated_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.PrimaryKeyConstraint("teacher_id", "year", name=op.f("pk_teacher_years")),
        schema="credits",
    )
    op.create_index(
        "ix_teacher_years_year_city",
        "teacher_years",
        ["year", "city_id", "county_id", "school_id"],
        unique=False,
        schema="credits",
    )
    op.create_table(
        "teachers",
        sa.Column("teacher_id", sa.UUID(), nullable=False),
        sa.Column("name", sa.String(length=50), nullable=False),
        sa.Column("province_id", sa.String(length=40), nullable=False),
        sa.Column("city_id", sa.String(length=40), nullable=False),
        sa.Column("county_id", sa.String(length=40), nullable=False),
        sa.Column("school_id", sa.String(length=40), nullable=False),
        sa.Column(
            "updated_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.PrimaryKeyConstraint("teacher_id", name=op.f("pk_teachers")),
        schema="credits",
    )
    op.create_index(
        "ix_teachers_org",
        "teachers",
        ["province_id", "city_id", "county_id", "school_id"],
        unique=False,
        schema="credits",
    )
    op.create_table(
        "org_year_totals",
        sa.Column("year", sa.Integer(), nullable=False),
        sa.Column("level", sa.String(length=10), nullable=False),
        sa.Column("org_id", sa.String(length=40), nullable=False),
        sa.Column("parent_id", sa.String(length=40), nullable=False),
        sa.Column("with_credit", sa.Integer(), nullable=False),
        sa.Column("complete", sa.Integer(), nullable=False),
        sa.Column("counted_hours", sa.Numeric(precision=14, scale=1), nullable=False),
        sa.PrimaryKeyConstraint("year", "level", "org_id", name=op.f("pk_org_year_totals")),
        schema="credits",
    )
    op.create_index(
        "ix_org_year_totals_parent",
        "org_year_totals",
        ["year", "level", "parent_id"],
        unique=False,
        schema="credits",
    )
    # 学分台账 is append-only: corrections are reversal entries, never edits.
    op.execute(
        """CREATE FUNCTION credits.ledger_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN RAISE EXCEPTION 'credits.ledger_entries is append-only (use a reversal entry)';
        END $$"""
    )
    op.execute(
        "CREATE TRIGGER ledger_append_only BEFORE UPDATE OR DELETE ON credits.ledger_entries "
        "FOR EACH ROW EXECUTE FUNCTION credits.ledger_append_only()"
    )


def downgrade() -> None:
    op.drop_index("ix_org_year_totals_parent", table_name="org_year_totals", schema="credits")
    op.drop_table("org_year_totals", schema="credits")
    op.execute("DROP TRIGGER ledger_append_only ON credits.ledger_entries")
    op.execute("DROP FUNCTION credits.ledger_append_only()")
    op.drop_index("ix_teachers_org", table_name="teachers", schema="credits")
    op.drop_table("teachers", schema="credits")
    op.drop_index("ix_teacher_years_year_city", table_name="teacher_years", schema="credits")
    op.drop_table("teacher_years", schema="credits")
    op.drop_table("ledger_totals", schema="credits")
    op.drop_index(
        "ix_ledger_entries_teacher_recorded", table_name="ledger_entries", schema="credits"
    )
    op.drop_table("ledger_entries", schema="credits")
