"""Tables of the gateway schema: the login accounts."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import CheckConstraint, DateTime, String, Text, func
from sqlalchemy.dialects.postgresql import ARRAY, UUID
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from yanxiu.kit.auth import Role
from yanxiu.kit.db import service_metadata
from yanxiu.kit.tables import audit_table, inbox_table

SCHEMA = "gateway"
metadata = service_metadata(SCHEMA)
audit_log = audit_table(metadata)
inbox = inbox_table(metadata)

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
