"""offline records with approvals, and certificates

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

S = "credits"


def upgrade() -> None:
    op.create_table(
        "offline_records",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("teacher_id", sa.Uuid(), nullable=False),
        sa.Column("teacher_name", sa.String(length=64), nullable=False),
        sa.Column("province_id", sa.String(length=32), nullable=False),
        sa.Column("city_id", sa.String(length=32), nullable=False),
        sa.Column("county_id", sa.String(length=32), nullable=False),
        sa.Column("school_id", sa.String(length=64), nullable=False),
        sa.Column("institution_user_id", sa.String(length=64), nullable=False),
        sa.Column("training_name", sa.String(length=200), nullable=False),
        sa.Column("category", sa.String(length=32), nullable=False),
        sa.Column("start_date", sa.Date(), nullable=False),
        sa.Column("end_date", sa.Date(), nullable=False),
        sa.Column("half_days", sa.Integer(), nullable=False),
        sa.Column("days", sa.Integer(), nullable=False),
        sa.Column("hours", sa.Numeric(8, 2), nullable=False),
        sa.Column("year", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(length=24), nullable=False),
        sa.Column("reject_reason", sa.Text(), nullable=True),
        sa.Column(
            "created_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False
        ),
        sa.Column(
            "updated_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False
        ),
        sa.PrimaryKeyConstraint("id", name="pk_offline_records"),
        schema=S,
    )
    op.create_index("ix_offline_records_teacher_id", "offline_records", ["teacher_id"], schema=S)
    op.create_index("ix_offline_records_status", "offline_records", ["status"], schema=S)
    op.create_index(
        "ix_offline_records_scope",
        "offline_records",
        ["city_id", "county_id", "status"],
        schema=S,
    )
    op.create_table(
        "offline_record_history",
        sa.Column("id", sa.BigInteger(), autoincrement=True, nullable=False),
        sa.Column("record_id", sa.Uuid(), nullable=False),
        sa.Column("actor_id", sa.String(length=64), nullable=False),
        sa.Column("actor_role", sa.String(length=32), nullable=False),
        sa.Column("action", sa.String(length=24), nullable=False),
        sa.Column("reason", sa.Text(), nullable=True),
        sa.Column("before", postgresql.JSONB(), nullable=True),
        sa.Column("after", postgresql.JSONB(), nullable=True),
        sa.Column("at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False),
        sa.ForeignKeyConstraint(
            ["record_id"],
            [f"{S}.offline_records.id"],
            ondelete="CASCADE",
            name="fk_offline_record_history_record_id_offline_records",
        ),
        sa.PrimaryKeyConstraint("id", name="pk_offline_record_history"),
        schema=S,
    )
    op.create_index(
        "ix_offline_record_history_record_id",
        "offline_record_history",
        ["record_id"],
        schema=S,
    )
    op.create_table(
        "certificates",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("code", sa.String(length=32), nullable=False),
        sa.Column("teacher_id", sa.Uuid(), nullable=False),
        sa.Column("teacher_name", sa.String(length=64), nullable=False),
        sa.Column("province_id", sa.String(length=32), nullable=False),
        sa.Column("city_id", sa.String(length=32), nullable=False),
        sa.Column("county_id", sa.String(length=32), nullable=False),
        sa.Column("school_id", sa.String(length=64), nullable=False),
        sa.Column("year", sa.Integer(), nullable=False),
        sa.Column("region", sa.String(length=32), nullable=False),
        sa.Column("hours_by_category", postgresql.JSONB(), nullable=False),
        sa.Column("total_hours", sa.String(length=16), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column(
            "issued_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False
        ),
        sa.Column("revoked_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("revoke_reason", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_certificates"),
        sa.UniqueConstraint("code", name="uq_certificates_code"),
        schema=S,
    )
    op.create_index("ix_certificates_teacher_id", "certificates", ["teacher_id"], schema=S)
    op.create_index(
        "uq_certificates_valid_teacher_year",
        "certificates",
        ["teacher_id", "year"],
        unique=True,
        schema=S,
        postgresql_where=sa.text("status = 'valid'"),
    )


def downgrade() -> None:
    op.drop_table("certificates", schema=S)
    op.drop_table("offline_record_history", schema=S)
    op.drop_table("offline_records", schema=S)
