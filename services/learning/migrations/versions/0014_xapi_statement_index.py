"""xAPI statements: what the filters look statements up by, in indexed columns (hashed agent and
activity keys, registration), so that a filtered page is an index range at any size
(`learning.providers.xapi_index`). Statements stored before this revision get their keys here.

Revision ID: 0014
Revises: 0013
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

from learning.providers.xapi_index import index_keys

revision = "0014"
down_revision = "0013"
branch_labels = None
depends_on = None

S = "learning"
T = "xapi_statements"
BATCH = 1000


def upgrade() -> None:
    op.add_column(T, sa.Column("actor_key", sa.String(length=32), nullable=True), schema=S)
    op.add_column(T, sa.Column("object_key", sa.String(length=32), nullable=True), schema=S)
    op.add_column(T, sa.Column("registration", sa.UUID(), nullable=True), schema=S)
    for column in ("related_agents", "related_activities"):
        op.add_column(
            T,
            sa.Column(
                column,
                postgresql.ARRAY(sa.String(length=32)),
                server_default=sa.text("'{}'"),
                nullable=False,
            ),
            schema=S,
        )
    _backfill()
    for name, columns in (
        ("ix_xapi_statements_provider_actor_seq", ["provider_id", "actor_key", "seq"]),
        ("ix_xapi_statements_provider_object_seq", ["provider_id", "object_key", "seq"]),
        ("ix_xapi_statements_provider_registration_seq", ["provider_id", "registration", "seq"]),
        ("ix_xapi_statements_provider_verb_seq", ["provider_id", "verb_id", "seq"]),
    ):
        op.create_index(name, T, columns, schema=S)
    for column in ("related_agents", "related_activities"):
        op.create_index(
            f"ix_xapi_statements_{column}", T, [column], schema=S, postgresql_using="gin"
        )
    op.create_index(
        "ix_xapi_statements_provider_voiding_seq",
        T,
        ["provider_id", "seq"],
        schema=S,
        postgresql_where=sa.text("voids_id IS NOT NULL"),
    )


def _backfill() -> None:
    bind = op.get_bind()
    last = 0
    while True:
        rows = bind.execute(
            sa.text(
                f"SELECT seq, statement FROM {S}.{T} WHERE seq > :last ORDER BY seq LIMIT {BATCH}"
            ),
            {"last": last},
        ).all()
        if not rows:
            return
        for seq, statement in rows:
            bind.execute(
                sa.text(
                    f"UPDATE {S}.{T} SET actor_key = :actor_key, object_key = :object_key,"
                    " registration = CAST(:registration AS uuid),"
                    " related_agents = :related_agents, related_activities = :related_activities"
                    " WHERE seq = :seq"
                ),
                {**index_keys(statement).columns(), "seq": seq},
            )
        last = rows[-1][0]


def downgrade() -> None:
    for name in (
        "ix_xapi_statements_provider_voiding_seq",
        "ix_xapi_statements_related_activities",
        "ix_xapi_statements_related_agents",
        "ix_xapi_statements_provider_verb_seq",
        "ix_xapi_statements_provider_registration_seq",
        "ix_xapi_statements_provider_object_seq",
        "ix_xapi_statements_provider_actor_seq",
    ):
        op.drop_index(name, table_name=T, schema=S)
    for column in (
        "related_activities",
        "related_agents",
        "registration",
        "object_key",
        "actor_key",
    ):
        op.drop_column(T, column, schema=S)
