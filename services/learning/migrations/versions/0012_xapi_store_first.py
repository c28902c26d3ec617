"""xAPI: store first, map after. Every valid statement is stored; what a completion statement
became (its mapping) is kept beside it: counted, already_counted, held, already_recorded,
waiting (its teacher's plan or its course is not known yet: tried again when they appear) or
unmappable (the statement itself cannot become a completion), with the problem code that says
why. Statements stored before this revision were all mapped when they were stored.

Revision ID: 0012
Revises: 0011
"""

import sqlalchemy as sa
from alembic import op

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None

S = "learning"
T = "xapi_statements"
MAPPINGS = "'counted', 'already_counted', 'held', 'already_recorded', 'waiting', 'unmappable'"


def upgrade() -> None:
    op.add_column(T, sa.Column("mapping", sa.String(length=20), nullable=True), schema=S)
    op.add_column(T, sa.Column("mapping_code", sa.String(length=60), nullable=True), schema=S)
    op.add_column(T, sa.Column("mapping_teacher_id", sa.UUID(), nullable=True), schema=S)
    op.add_column(T, sa.Column("mapping_course_key", sa.String(length=60), nullable=True), schema=S)
    op.add_column(T, sa.Column("mapped_at", sa.DateTime(timezone=True), nullable=True), schema=S)
    op.execute(
        f"UPDATE {S}.{T} SET mapping = 'counted', mapped_at = stored"
        " WHERE completion_id IS NOT NULL"
    )
    op.create_check_constraint(
        op.f("ck_xapi_statements_mapping"), T, f"mapping IN ({MAPPINGS})", schema=S
    )
    op.create_index(
        "ix_xapi_statements_waiting_teacher",
        T,
        ["mapping_teacher_id"],
        schema=S,
        postgresql_where=sa.text("mapping = 'waiting'"),
    )
    op.create_index(
        "ix_xapi_statements_waiting_course",
        T,
        ["mapping_course_key"],
        schema=S,
        postgresql_where=sa.text("mapping = 'waiting'"),
    )
    op.create_index(
        "ix_xapi_statements_provider_mapping_seq",
        T,
        ["provider_id", "mapping", "seq"],
        schema=S,
        postgresql_where=sa.text("mapping IS NOT NULL"),
    )


def downgrade() -> None:
    for index in (
        "ix_xapi_statements_provider_mapping_seq",
        "ix_xapi_statements_waiting_course",
        "ix_xapi_statements_waiting_teacher",
    ):
        op.drop_index(index, table_name=T, schema=S)
    op.drop_constraint(op.f("ck_xapi_statements_mapping"), T, schema=S)
    for column in (
        "mapped_at",
        "mapping_course_key",
        "mapping_teacher_id",
        "mapping_code",
        "mapping",
    ):
        op.drop_column(T, column, schema=S)
