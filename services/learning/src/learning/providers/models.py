"""Tables of providers (第三方培训机构): the registry and its signing keys, the signatures seen
(replay protection), providers' completion events (idempotency), xAPI statements and the
links of providers' xAPI agents to teachers.

Idempotency lives in constraints: (provider_id, event_id) is the key of `provider_events`,
(key_id, signature) of `provider_signatures`, and a statement id is the key of `xapi_statements`.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any, Literal, get_args

from sqlalchemy import (
    BigInteger,
    CheckConstraint,
    DateTime,
    ForeignKey,
    Identity,
    Index,
    LargeBinary,
    String,
    UniqueConstraint,
    func,
    text,
)
from sqlalchemy.dialects.postgresql import ARRAY, JSONB, UUID
from sqlalchemy.orm import Mapped, mapped_column

from learning.models import Base


class Provider(Base):
    """第三方培训机构: an outside training platform registered by a province admin."""

    __tablename__ = "providers"

    id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), primary_key=True, default=uuid.uuid4)
    code: Mapped[str] = mapped_column(String(40), unique=True)
    name: Mapped[str] = mapped_column(String(100))
    # The province that registered it: it reports only for teachers of that province.
    province_id: Mapped[str] = mapped_column(String(40), index=True)
    created_by: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())


class ProviderKey(Base):
    """A signing key: the secret is AES-GCM encrypted (recoverable, to recompute HMACs)."""

    __tablename__ = "provider_keys"

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    provider_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("providers.id"), index=True)
    secret_encrypted: Mapped[bytes] = mapped_column(LargeBinary)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    revoked_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    last_used_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)


class ProviderSignature(Base):
    """A signature already accepted: the same signed request inside the window is a replay."""

    __tablename__ = "provider_signatures"

    key_id: Mapped[str] = mapped_column(String(40), primary_key=True)
    signature: Mapped[str] = mapped_column(String(64), primary_key=True)
    seen_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), server_default=func.now(), index=True
    )


class ProviderEvent(Base):
    """One completion event as the provider sent it, keyed by the provider's own event id."""

    __tablename__ = "provider_events"

    provider_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("providers.id"), primary_key=True)
    event_id: Mapped[str] = mapped_column(String(200), primary_key=True)
    # sha256 of the canonical body: the same event id with another body is a conflict.
    body_hash: Mapped[str] = mapped_column(String(64))
    completion_id: Mapped[uuid.UUID | None] = mapped_column(UUID(as_uuid=True), nullable=True)
    result: Mapped[dict[str, Any]] = mapped_column(JSONB, default=dict)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    # The provider withdrew it (DELETE): the completion no longer counts.
    retracted_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)


# What a completion statement became: attainment's answer (counted, already_counted, held,
# already_recorded), waiting (its teacher's plan or its course is not known yet) or unmappable.
XapiMapping = Literal[
    "counted", "already_counted", "held", "already_recorded", "waiting", "unmappable"
]


class XapiStatement(Base):
    """An xAPI 1.0.3 statement as stored (with `stored`, `authority`, `version` set by the LRS)."""

    __tablename__ = "xapi_statements"

    id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), primary_key=True)
    provider_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("providers.id"))
    statement: Mapped[dict[str, Any]] = mapped_column(JSONB)
    verb_id: Mapped[str] = mapped_column(String(500))
    # For a voiding statement: the id of the statement it voids.
    voids_id: Mapped[uuid.UUID | None] = mapped_column(UUID(as_uuid=True), nullable=True)
    voided: Mapped[bool] = mapped_column(default=False)
    completion_id: Mapped[uuid.UUID | None] = mapped_column(UUID(as_uuid=True), nullable=True)
    stored: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    # Monotonic order for the statement list's `more` cursor.
    seq: Mapped[int] = mapped_column(BigInteger, Identity(), unique=True)
    # What a completion statement became (xapi_mapping.MAPPINGS); None for other statements.
    mapping: Mapped[str | None] = mapped_column(String(20), nullable=True)
    mapping_code: Mapped[str | None] = mapped_column(String(60), nullable=True)
    # The problem in words, Chinese with English beside it (e.g. the window's dates).
    mapping_detail: Mapped[str | None] = mapped_column(String(500), nullable=True)
    # For a waiting statement: the teacher and course it waits for (tried again when they come).
    mapping_teacher_id: Mapped[uuid.UUID | None] = mapped_column(UUID(as_uuid=True), nullable=True)
    mapping_course_key: Mapped[str | None] = mapped_column(String(60), nullable=True)
    mapped_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    # What the filters look statements up by (xapi_index): hashed agent and activity keys.
    actor_key: Mapped[str | None] = mapped_column(String(32), nullable=True)
    object_key: Mapped[str | None] = mapped_column(String(32), nullable=True)
    registration: Mapped[uuid.UUID | None] = mapped_column(UUID(as_uuid=True), nullable=True)
    related_agents: Mapped[list[str]] = mapped_column(
        ARRAY(String(32)), server_default=text("'{}'"), default=list
    )
    related_activities: Mapped[list[str]] = mapped_column(
        ARRAY(String(32)), server_default=text("'{}'"), default=list
    )

    __table_args__ = (
        Index("ix_xapi_statements_provider_seq", "provider_id", "seq"),
        Index("ix_xapi_statements_voids_id", "voids_id"),
        CheckConstraint(
            "mapping IN (" + ", ".join(f"'{m}'" for m in get_args(XapiMapping)) + ")",
            name="mapping",
        ),
        Index(
            "ix_xapi_statements_waiting_teacher",
            "mapping_teacher_id",
            postgresql_where=text("mapping = 'waiting'"),
        ),
        Index(
            "ix_xapi_statements_waiting_course",
            "mapping_course_key",
            postgresql_where=text("mapping = 'waiting'"),
        ),
        Index("ix_xapi_statements_provider_actor_seq", "provider_id", "actor_key", "seq"),
        Index("ix_xapi_statements_provider_object_seq", "provider_id", "object_key", "seq"),
        Index("ix_xapi_statements_provider_registration_seq", "provider_id", "registration", "seq"),
        Index("ix_xapi_statements_provider_verb_seq", "provider_id", "verb_id", "seq"),
        Index(
            "ix_xapi_statements_provider_voiding_seq",
            "provider_id",
            "seq",
            postgresql_where=text("voids_id IS NOT NULL"),
        ),
        Index("ix_xapi_statements_related_agents", "related_agents", postgresql_using="gin"),
        Index(
            "ix_xapi_statements_related_activities", "related_activities", postgresql_using="gin"
        ),
        Index(
            "ix_xapi_statements_provider_mapping_seq",
            "provider_id",
            "mapping",
            "seq",
            postgresql_where=text("mapping IS NOT NULL"),
        ),
    )


XapiDocumentKind = Literal["state", "activity_profile", "agent_profile"]


class XapiDocument(Base):
    """A State, Activity Profile or Agent Profile document, as sent (xAPI 1.0.3 §2.3–2.7)."""

    __tablename__ = "xapi_documents"

    id: Mapped[int] = mapped_column(BigInteger, Identity(), primary_key=True)
    provider_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("providers.id"))
    kind: Mapped[str] = mapped_column(String(20))
    # '' where the kind has none (an agent profile has no activity, and so on).
    activity_id: Mapped[str] = mapped_column(String(2048))
    agent_key: Mapped[str] = mapped_column(String(1024))
    registration: Mapped[str] = mapped_column(String(36))
    document_id: Mapped[str] = mapped_column(String(1024))
    # SHA-256 of (kind, activity, agent, registration) and of the document id: the keys.
    scope: Mapped[str] = mapped_column(String(64))
    document_key: Mapped[str] = mapped_column(String(64))
    content: Mapped[bytes] = mapped_column(LargeBinary)
    content_type: Mapped[str] = mapped_column(String(255))
    etag: Mapped[str] = mapped_column(String(40))
    updated: Mapped[datetime] = mapped_column(DateTime(timezone=True))

    __table_args__ = (
        CheckConstraint(
            "kind IN (" + ", ".join(f"'{k}'" for k in get_args(XapiDocumentKind)) + ")",
            name="kind",
        ),
        Index("ix_xapi_documents_key", "provider_id", "scope", "document_key", unique=True),
    )


class XapiAttachment(Base):
    """An attachment's content as a provider sent it with its statements (multipart/mixed),
    keyed by its SHA-2: statements naming the same content share one row (Data §2.4.11)."""

    __tablename__ = "xapi_attachments"

    provider_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("providers.id"), primary_key=True)
    sha2: Mapped[str] = mapped_column(String(128), primary_key=True)
    content_type: Mapped[str] = mapped_column(String(255))
    content: Mapped[bytes] = mapped_column(LargeBinary)
    stored: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())


class XapiAccountLink(Base):
    """学员账号关联 (account link): the provider says that one of its xAPI agents (an Agent's
    identifier: mbox, mbox_sha1sum, openid or account) is this platform teacher. Completion
    statements by that agent then map onto the teacher as a platform account's do."""

    __tablename__ = "xapi_account_links"

    id: Mapped[int] = mapped_column(BigInteger, Identity(), primary_key=True)
    provider_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("providers.id"))
    # The identifier's hashed key, as `xapi_index` keys a statement's actor (`actor_key`).
    agent_key: Mapped[str] = mapped_column(String(32))
    # The identifier itself as canonical JSON (sorted keys), to show back to the provider.
    agent: Mapped[str] = mapped_column(String(4096))
    teacher_id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())

    __table_args__ = (
        UniqueConstraint("provider_id", "agent_key"),
        Index("ix_xapi_account_links_provider_teacher", "provider_id", "teacher_id", "id"),
    )
