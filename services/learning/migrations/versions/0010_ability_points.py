"""IT 2.0 (Hefei): a plan's role, ability-point and role-task certifications, their attempts
and assessments; plans found by project and org for scoped lists

Revision ID: 0010
Revises: 0009
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None

S = "learning"
# Frozen copies of the code's values (learning.rules.ruleset.ROLE_CODES and the Literals of
# learning.abilities.models): a later value is a later migration.
ROLES = "role IN ('teacher', 'workshop_leader', 'school_admin')"
ITEM_KINDS = "item_kind IN ('point', 'task')"
STATUSES = "status IN ('submitted', 'revise', 'passed')"
OUTCOMES = "outcome IN ('pass', 'revise')"


def _now(name: str) -> sa.Column[object]:
    return sa.Column(
        name, sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False
    )


def upgrade() -> None:
    op.create_table(
        "plan_roles",
        sa.Column("plan_id", sa.UUID(), nullable=False),
        sa.Column("role", sa.String(length=20), nullable=False),
        sa.Column("assigned_by", sa.String(length=64), nullable=False),
        _now("assigned_at"),
        sa.CheckConstraint(ROLES, name=op.f("ck_plan_roles_role")),
        sa.ForeignKeyConstraint(
            ["plan_id"],
            [f"{S}.plans.id"],
            name=op.f("fk_plan_roles_plan_id_plans"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("plan_id", name=op.f("pk_plan_roles")),
        schema=S,
    )
    op.create_table(
        "certifications",
        sa.Column("id", sa.UUID(), nullable=False),
        sa.Column("plan_id", sa.UUID(), nullable=False),
        sa.Column("item_kind", sa.String(length=10), nullable=False),
        sa.Column("item_code", sa.String(length=40), nullable=False),
        sa.Column("status", sa.String(length=12), nullable=False),
        sa.Column("attempt", sa.Integer(), nullable=False),
        sa.Column("description", sa.String(length=2000), nullable=False),
        sa.Column("materials", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column("submitted_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("assessed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("assessed_by", sa.String(length=64), nullable=True),
        sa.Column("comment", sa.String(length=1000), nullable=True),
        _now("updated_at"),
        sa.CheckConstraint(ITEM_KINDS, name=op.f("ck_certifications_item_kind")),
        sa.CheckConstraint(STATUSES, name=op.f("ck_certifications_status")),
        sa.CheckConstraint("attempt >= 1", name=op.f("ck_certifications_attempt")),
        sa.ForeignKeyConstraint(
            ["plan_id"],
            [f"{S}.plans.id"],
            name=op.f("fk_certifications_plan_id_plans"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_certifications")),
        sa.UniqueConstraint(
            "plan_id",
            "item_kind",
            "item_code",
            name=op.f("uq_certifications_plan_id_item_kind_item_code"),
        ),
        schema=S,
    )
    op.create_index(
        "ix_certifications_waiting",
        "certifications",
        ["submitted_at", "id"],
        schema=S,
        postgresql_where=sa.text("status = 'submitted'"),
    )
    op.create_table(
        "certification_attempts",
        sa.Column("certification_id", sa.UUID(), nullable=False),
        sa.Column("attempt", sa.Integer(), nullable=False),
        sa.Column("description", sa.String(length=2000), nullable=False),
        sa.Column("materials", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column("submitted_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["certification_id"],
            [f"{S}.certifications.id"],
            name=op.f("fk_certification_attempts_certification_id_certifications"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint(
            "certification_id", "attempt", name=op.f("pk_certification_attempts")
        ),
        schema=S,
    )
    op.create_table(
        "certification_assessments",
        sa.Column("id", sa.BigInteger(), sa.Identity(always=False), nullable=False),
        sa.Column("certification_id", sa.UUID(), nullable=False),
        sa.Column("attempt", sa.Integer(), nullable=False),
        sa.Column("outcome", sa.String(length=10), nullable=False),
        sa.Column("comment", sa.String(length=1000), nullable=True),
        sa.Column("assessed_by", sa.String(length=64), nullable=False),
        _now("assessed_at"),
        sa.CheckConstraint(OUTCOMES, name=op.f("ck_certification_assessments_outcome")),
        sa.ForeignKeyConstraint(
            ["certification_id"],
            [f"{S}.certifications.id"],
            name=op.f("fk_certification_assessments_certification_id_certifications"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_certification_assessments")),
        schema=S,
    )
    op.create_index(
        op.f("ix_certification_assessments_certification_id"),
        "certification_assessments",
        ["certification_id"],
        schema=S,
    )
    op.create_index(
        "ix_plans_project_org",
        "plans",
        ["project_id", "city_id", "county_id", "school_id"],
        schema=S,
    )


def downgrade() -> None:
    op.drop_index("ix_plans_project_org", table_name="plans", schema=S)
    op.drop_index(
        op.f("ix_certification_assessments_certification_id"),
        table_name="certification_assessments",
        schema=S,
    )
    op.drop_table("certification_assessments", schema=S)
    op.drop_table("certification_attempts", schema=S)
    op.drop_index("ix_certifications_waiting", table_name="certifications", schema=S)
    op.drop_table("certifications", schema=S)
    op.drop_table("plan_roles", schema=S)
