"""sign-in sessions and rotating refresh tokens; disabling an account ends its sessions

Revision ID: 0004
Revises: 0003
"""

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None

# Whatever turns an account off (the API, an enrollment event, a hand-written UPDATE), its
# tokens stop at once: the gateway refuses tokens issued before tokens_valid_after.
END_SESSIONS_WHEN_DISABLED = (
    """
    CREATE FUNCTION gateway.end_sessions_when_disabled() RETURNS trigger
    LANGUAGE plpgsql AS $$
    BEGIN
        IF OLD.active AND NOT NEW.active THEN
            NEW.tokens_valid_after := greatest(coalesce(NEW.tokens_valid_after, now()), now());
        END IF;
        RETURN NEW;
    END
    $$
    """,
    """
    CREATE TRIGGER accounts_end_sessions_when_disabled
        BEFORE UPDATE OF active ON gateway.accounts
        FOR EACH ROW EXECUTE FUNCTION gateway.end_sessions_when_disabled()
    """,
)


def upgrade() -> None:
    op.create_index(
        op.f("ix_accounts_tokens_valid_after"),
        "accounts",
        ["tokens_valid_after"],
        schema="gateway",
    )
    op.create_table(
        "sessions",
        sa.Column("id", sa.UUID(), nullable=False),
        sa.Column("account_id", sa.UUID(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("refreshed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("revoked_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("revoked_reason", sa.String(length=20), nullable=True),
        sa.ForeignKeyConstraint(
            ["account_id"],
            ["gateway.accounts.id"],
            name=op.f("fk_sessions_account_id_accounts"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_sessions")),
        schema="gateway",
    )
    op.create_index(op.f("ix_sessions_account_id"), "sessions", ["account_id"], schema="gateway")
    op.create_index(op.f("ix_sessions_expires_at"), "sessions", ["expires_at"], schema="gateway")
    op.create_index(op.f("ix_sessions_revoked_at"), "sessions", ["revoked_at"], schema="gateway")
    op.create_table(
        "refresh_tokens",
        sa.Column("digest", sa.LargeBinary(length=32), nullable=False),
        sa.Column("session_id", sa.UUID(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("used_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["session_id"],
            ["gateway.sessions.id"],
            name=op.f("fk_refresh_tokens_session_id_sessions"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("digest", name=op.f("pk_refresh_tokens")),
        schema="gateway",
    )
    op.create_index(
        op.f("ix_refresh_tokens_session_id"), "refresh_tokens", ["session_id"], schema="gateway"
    )
    op.create_index(
        op.f("ix_refresh_tokens_expires_at"), "refresh_tokens", ["expires_at"], schema="gateway"
    )
    for statement in END_SESSIONS_WHEN_DISABLED:
        op.execute(statement)


def downgrade() -> None:
    op.execute("DROP TRIGGER accounts_end_sessions_when_disabled ON gateway.accounts")
    op.execute("DROP FUNCTION gateway.end_sessions_when_disabled()")
    op.drop_table("refresh_tokens", schema="gateway")
    op.drop_table("sessions", schema="gateway")
    op.drop_index(op.f("ix_accounts_tokens_valid_after"), "accounts", schema="gateway")
