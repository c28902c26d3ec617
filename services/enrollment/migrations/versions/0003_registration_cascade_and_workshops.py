"""registration cascade and workshops

The date window of each cascade step on the project (existing projects take their registration
window for every step); opened counties and schools (参训区域 / 参训单位); county and city
submissions; keyset indexes for the registration list; workshops (工作坊) with hosts, members and
cases (案例).

Revision ID: 0003
Revises: 0002
"""

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

S = "enrollment"
WINDOWS = [
    ("counties_open_from", "registration_opens_on"),
    ("counties_open_until", "registration_closes_on"),
    ("schools_open_from", "registration_opens_on"),
    ("schools_open_until", "registration_closes_on"),
    ("submission_opens_on", "registration_opens_on"),
    ("submission_closes_on", "registration_closes_on"),
]
REGISTRATION_INDEXES = [
    ("ix_registrations_project_id", ["project_id", "id"]),
    ("ix_registrations_project_county", ["project_id", "county_id", "id"]),
    ("ix_registrations_project_school", ["project_id", "school_id", "id"]),
    ("ix_registrations_project_subject", ["project_id", "subject", "id"]),
]


def _fk(table: str, col: str, ref: str) -> sa.ForeignKeyConstraint:
    return sa.ForeignKeyConstraint([col], [f"{S}.{ref}.id"], name=op.f(f"fk_{table}_{col}_{ref}"))


def upgrade() -> None:
    for column, source in WINDOWS:
        op.add_column("projects", sa.Column(column, sa.Date(), nullable=True), schema=S)
        op.execute(f"UPDATE {S}.projects SET {column} = {source}")
        op.alter_column("projects", column, nullable=False, schema=S)
    for name, cols in REGISTRATION_INDEXES:
        op.create_index(name, "registrations", cols, unique=False, schema=S)

    op.create_table(
        "project_units",
        sa.Column("project_id", sa.UUID(), nullable=False),
        sa.Column("org_id", sa.String(length=40), nullable=False),
        sa.Column("level", sa.String(length=10), nullable=False),
        sa.Column("city_id", sa.String(length=40), nullable=False),
        sa.Column("county_id", sa.String(length=40), nullable=False),
        sa.Column("opened_by", sa.String(length=100), nullable=False),
        sa.Column(
            "opened_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False
        ),
        _fk("project_units", "project_id", "projects"),
        _fk("project_units", "org_id", "orgs"),
        sa.PrimaryKeyConstraint("project_id", "org_id", name=op.f("pk_project_units")),
        schema=S,
    )
    op.create_index(
        "ix_project_units_city",
        "project_units",
        ["project_id", "level", "city_id", "org_id"],
        schema=S,
    )
    op.create_index(
        "ix_project_units_county",
        "project_units",
        ["project_id", "level", "county_id", "org_id"],
        schema=S,
    )
    op.create_table(
        "unit_submissions",
        sa.Column("project_id", sa.UUID(), nullable=False),
        sa.Column("org_id", sa.String(length=40), nullable=False),
        sa.Column("level", sa.String(length=10), nullable=False),
        sa.Column("city_id", sa.String(length=40), nullable=False),
        sa.Column("submitted_by", sa.String(length=100), nullable=False),
        sa.Column("submitted_at", sa.DateTime(timezone=True), nullable=False),
        _fk("unit_submissions", "project_id", "projects"),
        _fk("unit_submissions", "org_id", "orgs"),
        sa.PrimaryKeyConstraint("project_id", "org_id", name=op.f("pk_unit_submissions")),
        schema=S,
    )
    op.create_index(
        "ix_unit_submissions_city",
        "unit_submissions",
        ["project_id", "city_id", "org_id"],
        schema=S,
    )
    op.create_table(
        "workshops",
        sa.Column("id", sa.UUID(), nullable=False),
        sa.Column("project_id", sa.UUID(), nullable=False),
        sa.Column("kind", sa.String(length=10), nullable=False),
        sa.Column("level", sa.String(length=10), nullable=False),
        sa.Column("org_id", sa.String(length=40), nullable=False),
        sa.Column("province_id", sa.String(length=40), nullable=False),
        sa.Column("city_id", sa.String(length=40), nullable=True),
        sa.Column("county_id", sa.String(length=40), nullable=True),
        sa.Column("stage", sa.String(length=20), nullable=False),
        sa.Column("subject", sa.String(length=40), nullable=True),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("status", sa.String(length=10), nullable=False),
        sa.Column("created_by", sa.String(length=100), nullable=False),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        _fk("workshops", "project_id", "projects"),
        _fk("workshops", "org_id", "orgs"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_workshops")),
        sa.UniqueConstraint(
            "project_id", "org_id", "name", name=op.f("uq_workshops_project_id_org_id_name")
        ),
        schema=S,
    )
    op.create_index("ix_workshops_project", "workshops", ["project_id", "id"], schema=S)
    op.create_table(
        "workshop_hosts",
        sa.Column("workshop_id", sa.UUID(), nullable=False),
        sa.Column("user_id", sa.String(length=100), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        _fk("workshop_hosts", "workshop_id", "workshops"),
        sa.PrimaryKeyConstraint("workshop_id", "user_id", name=op.f("pk_workshop_hosts")),
        schema=S,
    )
    op.create_table(
        "workshop_members",
        sa.Column("workshop_id", sa.UUID(), nullable=False),
        sa.Column("teacher_id", sa.UUID(), nullable=False),
        sa.Column(
            "joined_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False
        ),
        _fk("workshop_members", "workshop_id", "workshops"),
        _fk("workshop_members", "teacher_id", "teachers"),
        sa.PrimaryKeyConstraint("workshop_id", "teacher_id", name=op.f("pk_workshop_members")),
        schema=S,
    )
    op.create_table(
        "workshop_cases",
        sa.Column("id", sa.UUID(), nullable=False),
        sa.Column("workshop_id", sa.UUID(), nullable=False),
        sa.Column("project_id", sa.UUID(), nullable=False),
        sa.Column("title", sa.String(length=200), nullable=False),
        sa.Column("author_teacher_id", sa.UUID(), nullable=False),
        sa.Column("submitted_by", sa.String(length=100), nullable=False),
        sa.Column("origin_level", sa.String(length=10), nullable=False),
        sa.Column("city_id", sa.String(length=40), nullable=True),
        sa.Column("county_id", sa.String(length=40), nullable=True),
        sa.Column("county_recommended_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("city_recommended_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("exemplary_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        _fk("workshop_cases", "workshop_id", "workshops"),
        _fk("workshop_cases", "project_id", "projects"),
        sa.ForeignKeyConstraint(
            ["author_teacher_id"],
            [f"{S}.teachers.id"],
            name=op.f("fk_workshop_cases_author_teacher_id_teachers"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_workshop_cases")),
        schema=S,
    )
    op.create_index("ix_workshop_cases_workshop", "workshop_cases", ["workshop_id", "id"], schema=S)
    op.create_index(
        "ix_workshop_cases_county", "workshop_cases", ["project_id", "county_id"], schema=S
    )
    op.create_index("ix_workshop_cases_city", "workshop_cases", ["project_id", "city_id"], schema=S)


def downgrade() -> None:
    for name in (
        "ix_workshop_cases_city",
        "ix_workshop_cases_county",
        "ix_workshop_cases_workshop",
    ):
        op.drop_index(name, table_name="workshop_cases", schema=S)
    op.drop_table("workshop_cases", schema=S)
    op.drop_table("workshop_members", schema=S)
    op.drop_table("workshop_hosts", schema=S)
    op.drop_index("ix_workshops_project", table_name="workshops", schema=S)
    op.drop_table("workshops", schema=S)
    op.drop_index("ix_unit_submissions_city", table_name="unit_submissions", schema=S)
    op.drop_table("unit_submissions", schema=S)
    op.drop_index("ix_project_units_county", table_name="project_units", schema=S)
    op.drop_index("ix_project_units_city", table_name="project_units", schema=S)
    op.drop_table("project_units", schema=S)
    for name, _ in reversed(REGISTRATION_INDEXES):
        op.drop_index(name, table_name="registrations", schema=S)
    for column, _ in reversed(WINDOWS):
        op.drop_column("projects", column, schema=S)
