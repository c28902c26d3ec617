"""initial schema

Revision ID: 0001
Revises: -
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

from yanxiu.kit.migrations import create_machinery_v1, drop_machinery_v1

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    create_machinery_v1("enrollment")
    op.create_table(
        "orgs",
        sa.Column("id", sa.String(length=40), nullable=False),
        sa.Column("parent_id", sa.String(length=40), nullable=True),
        sa.Column("level", sa.String(length=10), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("province_id", sa.String(length=40), nullable=False),
        sa.Column("city_id", sa.String(length=40), nullable=True),
        sa.Column("county_id", sa.String(length=40), nullable=True),
        sa.ForeignKeyConstraint(
            ["parent_id"], ["enrollment.orgs.id"], name=op.f("fk_orgs_parent_id_orgs")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_orgs")),
        schema="enrollment",
    )
    op.create_index(
        op.f("ix_orgs_parent_id"), "orgs", ["parent_id"], unique=False, schema="enrollment"
    )
    op.create_table(
        "projects",
        sa.Column("id", sa.UUID(), nullable=False),
        sa.Column("year", sa.Integer(), nullable=False),
        sa.Column("stage", sa.String(length=20), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("registration_opens_on", sa.Date(), nullable=False),
        sa.Column("registration_closes_on", sa.Date(), nullable=False),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_projects")),
        sa.UniqueConstraint("year", "stage", name=op.f("uq_projects_year_stage")),
        schema="enrollment",
    )
    op.create_table(
        "teachers",
        sa.Column("id", sa.UUID(), nullable=False),
        sa.Column("name", sa.String(length=50), nullable=False),
        sa.Column("id_number_cipher", sa.LargeBinary(), nullable=False),
        sa.Column("id_number_index", sa.String(length=64), nullable=False),
        sa.Column("gender", sa.String(length=10), nullable=False),
        sa.Column("birth_date", sa.Date(), nullable=False),
        sa.Column("phone_cipher", sa.LargeBinary(), nullable=True),
        sa.Column("phone_index", sa.String(length=64), nullable=True),
        sa.Column("stage", sa.String(length=20), nullable=False),
        sa.Column("subject", sa.String(length=40), nullable=False),
        sa.Column("is_rural", sa.Boolean(), nullable=False),
        sa.Column("status", sa.String(length=10), nullable=False),
        sa.Column("verified", sa.Boolean(), nullable=False),
        sa.Column("verified_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("verified_by", sa.String(length=100), nullable=True),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column(
            "updated_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column("province_id", sa.String(length=40), nullable=False),
        sa.Column("city_id", sa.String(length=40), nullable=False),
        sa.Column("county_id", sa.String(length=40), nullable=False),
        sa.Column("school_id", sa.String(length=40), nullable=False),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.ForeignKeyConstraint(
            ["school_id"], ["enrollment.orgs.id"], name=op.f("fk_teachers_school_id_orgs")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_teachers")),
        sa.UniqueConstraint("id_number_index", name=op.f("uq_teachers_id_number_index")),
        schema="enrollment",
    )
    op.create_index(
        "ix_teachers_city", "teachers", ["city_id", "id"], unique=False, schema="enrollment"
    )
    op.create_index(
        "ix_teachers_county", "teachers", ["county_id", "id"], unique=False, schema="enrollment"
    )
    op.create_index(
        op.f("ix_teachers_phone_index"),
        "teachers",
        ["phone_index"],
        unique=False,
        schema="enrollment",
    )
    op.create_index(
        "ix_teachers_school", "teachers", ["school_id", "id"], unique=False, schema="enrollment"
    )
    op.create_table(
        "registrations",
        sa.Column("id", sa.UUID(), nullable=False),
        sa.Column("project_id", sa.UUID(), nullable=False),
        sa.Column("teacher_id", sa.UUID(), nullable=False),
        sa.Column("subject", sa.String(length=40), nullable=False),
        sa.Column("city_id", sa.String(length=40), nullable=False),
        sa.Column("county_id", sa.String(length=40), nullable=False),
        sa.Column("school_id", sa.String(length=40), nullable=False),
        sa.Column("registered_by", sa.String(length=100), nullable=False),
        sa.Column(
            "registered_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.ForeignKeyConstraint(
            ["project_id"],
            ["enrollment.projects.id"],
            name=op.f("fk_registrations_project_id_projects"),
        ),
        sa.ForeignKeyConstraint(
            ["teacher_id"],
            ["enrollment.teachers.id"],
            name=op.f("fk_registrations_teacher_id_teachers"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_registrations")),
        sa.UniqueConstraint(
            "project_id", "teacher_id", name=op.f("uq_registrations_project_id_teacher_id")
        ),
        schema="enrollment",
    )
    op.create_index(
        "ix_registrations_project_city",
        "registrations",
        ["project_id", "city_id", "id"],
        unique=False,
        schema="enrollment",
    )
    op.create_table(
        "teacher_changes",
        sa.Column("id", sa.BigInteger(), sa.Identity(always=False), nullable=False),
        sa.Column("teacher_id", sa.UUID(), nullable=False),
        sa.Column("action", sa.String(length=30), nullable=False),
        sa.Column("changed_by", sa.String(length=100), nullable=False),
        sa.Column(
            "changed_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column("before", postgresql.JSONB(astext_type=sa.Text()), nullable=True),
        sa.Column("after", postgresql.JSONB(astext_type=sa.Text()), nullable=True),
        sa.ForeignKeyConstraint(
            ["teacher_id"],
            ["enrollment.teachers.id"],
            name=op.f("fk_teacher_changes_teacher_id_teachers"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_teacher_changes")),
        schema="enrollment",
    )
    op.create_index(
        op.f("ix_teacher_changes_teacher_id"),
        "teacher_changes",
        ["teacher_id"],
        unique=False,
        schema="enrollment",
    )


def downgrade() -> None:
    op.drop_index(
        op.f("ix_teacher_changes_teacher_id"), table_name="teacher_changes", schema="enrollment"
    )
    op.drop_table("teacher_changes", schema="enrollment")
    op.drop_index("ix_registrations_project_city", table_name="registrations", schema="enrollment")
    op.drop_table("registrations", schema="enrollment")
    op.drop_index("ix_teachers_school", table_name="teachers", schema="enrollment")
    op.drop_index(op.f("ix_teachers_phone_index"), table_name="teachers", schema="enrollment")
    op.drop_index("ix_teachers_county", table_name="teachers", schema="enrollment")
    op.drop_index("ix_teachers_city", table_name="teachers", schema="enrollment")
    op.drop_table("teachers", schema="enrollment")
    op.drop_table("projects", schema="enrollment")
    op.drop_index(op.f("ix_orgs_parent_id"), table_name="orgs", schema="enrollment")
    op.drop_table("orgs", schema="enrollment")
    drop_machinery_v1("enrollment")
