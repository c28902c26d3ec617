"""Tables of the gateway schema: the login accounts."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import (
    CheckConstraint,
    DateTime,
    ForeignKey,
    Index,
    LargeBinary,
    String,
    Text,
    func,
    text,
)
from sqlalchemy.dialects.postgresql import ARRAY, UUID
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from yanxiu.kit.auth import Role
from yanxiu.kit.db import service_metadata
from yanxiu.kit.tables import audit_table, dlq_dispositions_table, inbox_table

SCHEMA = "gateway"
metadata = service_metadata(SCHEMA)
audit_log = audit_table(metadata, scope_indexes=True)
inbox = inbox_table(metadata)
dlq_dispositions = dlq_dispositions_table(metadata)

_ROLES = ", ".join(f"'{r.value}'" for r in Role)


class Base(DeclarativeBase):
    metadata = metadata


class Account(Base):
    """登录账号: who may sign in, with the role and org scope their tokens carry."""

    __tablename__ = "accounts"

    id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), primary_key=True, default=uuid.uuid4)
    # Stored normalised (trimmed, lower case) so that lookups are exact.
    username: Mapped[str] = mapped_column(String(100), unique=True)
    password_hash: Mapped[str] = mapped_column(String(200))
    role: Mapped[str] = mapped_column(String(20))
    org_path: Mapped[list[str]] = mapped_column(ARRAY(Text), server_default="{}")
    name: Mapped[str] = mapped_column(String(50))
    teacher_id: Mapped[uuid.UUID | None] = mapped_column(UUID(as_uuid=True))
    active: Mapped[bool] = mapped_column(default=True, server_default="true")
    failed_logins: Mapped[int] = mapped_column(default=0, server_default="0")
    locked_until: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    last_login_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    # Tokens issued before this moment are refused (account disabled, password reset, its
    # teacher moved): the gateway checks it on every request.
    tokens_valid_after: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())

    __table_args__ = (CheckConstraint(f"role IN ({_ROLES})", name="role_known"),)


# The gateway's revocation view reads the accounts whose sessions ended lately.
Index("ix_accounts_tokens_valid_after", Account.tokens_valid_after)
# One login per teacher, whatever two admins do at the same moment; the event consumer finds
# a teacher's account by it.
Index(
    "uq_accounts_teacher",
    Account.teacher_id,
    unique=True,
    postgresql_where=text("role = 'teacher'"),
)
# Listing a subtree's accounts: org_path @> / prefix matches.
Index("ix_accounts_org_path", Account.org_path, postgresql_using="gin")


class SignInSession(Base):
    """登录会话: one sign-in and the refresh tokens it rotated through (one token family). Its
    id is the `sid` of every access token issued in it."""

    __tablename__ = "sessions"

    id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), primary_key=True)
    account_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("accounts.id", ondelete="CASCADE"), index=True
    )
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    refreshed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    # When its newest refresh token lapses; past it the family is deleted.
    expires_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), index=True)
    revoked_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), index=True)
    revoked_reason: Mapped[str | None] = mapped_column(String(20))


class RefreshToken(Base):
    """A refresh token, kept only as its SHA-256 digest. Used once: the next one replaces it,
    and a used one presented again revokes its whole family."""

    __tablename__ = "refresh_tokens"

    digest: Mapped[bytes] = mapped_column(LargeBinary(32), primary_key=True)
    session_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("sessions.id", ondelete="CASCADE"), index=True
    )
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    expires_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), index=True)
    used_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
