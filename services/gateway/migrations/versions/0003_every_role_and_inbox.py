"""every role of the code may hold an account; tokens_valid_after ends sessions; an inbox

Revision ID: 0003
Revises: 0002
"""

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

ROLES = (
    "teacher",
    "school_admin",
    "county_admin",
    "city_admin",
    "province_admin",
    "workshop_host",
    "expert",
    "provider",
    "training_institution",
)


def upgrade() -> None:
    op.drop_constraint(op.f("ck_accounts_role_known"), "accounts", schema="gateway", type_="check")
    op.create_check_constraint(
        "role_known",
        "accounts",
        "role IN (" + ", ".join(f"'{r}'" for r in ROLES) + ")",
        schema="gateway",
    )
    op.add_column(
        "accounts",
        sa.Column("tokens_valid_after", sa.DateTime(timezone=True), nullable=True),
        schema="gateway",
    )
    op.create_table(
        "inbox",
        sa.Column("consumer", sa.String(length=200), nullable=False),
        sa.Column("event_id", sa.UUID(), nullable=False),
        sa.Column("event_type", sa.String(length=200), nullable=False),
        sa.Column(
            "processed_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.PrimaryKeyConstraint("consumer", "event_id", name=op.f("pk_inbox")),
        schema="gateway",
    )


def downgrade() -> None:
    op.drop_table("inbox", schema="gateway")
    op.drop_column("accounts", "tokens_valid_after", schema="gateway")
    op.drop_constraint(op.f("ck_accounts_role_known"), "accounts", schema="gateway", type_="check")
    op.create_check_constraint(
        "role_known",
        "accounts",
        "role IN (" + ", ".join(f"'{r}'" for r in ROLES if r != "training_institution") + ")",
        schema="gateway",
    )
