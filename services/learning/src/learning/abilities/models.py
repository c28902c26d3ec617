"""Tables of IT 2.0 certification: a plan's role, each certification (one per plan and item),
its submitted attempts and the school's assessments. Scope comes from the plan's stored org
path (a plan follows its teacher), so nothing here copies it."""

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
    Integer,
    String,
    UniqueConstraint,
    func,
    text,
)
from sqlalchemy.dialects.postgresql import JSONB, UUID
from sqlalchemy.orm import Mapped, mapped_column

from learning.models import Base, Plan
from learning.rules.ruleset import ROLE_CODES

# point: a 微能力点 of the project's catalogue; task: one of the teacher's role's tasks.
ItemKind = Literal["point", "task"]
# submitted: waiting for the school; revise: sent back with comments (退回修改); passed.
CertificationStatus = Literal["submitted", "revise", "passed"]
Outcome = Literal["pass", "revise"]


def _within(column: str, values: tuple[str, ...]) -> str:
    return f"{column} IN ({', '.join(repr(v) for v in values)})"


class PlanRole(Base):
    """角色: the teacher's role in the plan's project (教师学员 unless the school says
    otherwise: 学科教研组工作坊坊主, 学校管理员). No row: the rule set's default role."""

    __tablename__ = "plan_roles"
    __table_args__ = (CheckConstraint(_within("role", ROLE_CODES), name="role"),)

    plan_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("plans.id", ondelete="CASCADE"), primary_key=True
    )
    role: Mapped[str] = mapped_column(String(20))
    assigned_by: Mapped[str] = mapped_column(String(64))
    assigned_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), server_default=func.now()
    )


class Certification(Base):
    """能力点认证 / 角色任务: the latest state of one item (an ability point or a role task) of
    one plan. Resubmitting makes a new attempt; the school passes it or sends it back."""

    __tablename__ = "certifications"
    __table_args__ = (
        UniqueConstraint("plan_id", "item_kind", "item_code"),
        CheckConstraint(_within("item_kind", get_args(ItemKind)), name="item_kind"),
        CheckConstraint(_within("status", get_args(CertificationStatus)), name="status"),
        CheckConstraint("attempt >= 1", name="attempt"),
        # The school's queue: what waits for assessment, oldest first.
        Index(
            "ix_certifications_waiting",
            "submitted_at",
            "id",
            postgresql_where=text("status = 'submitted'"),
        ),
    )

    id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), primary_key=True, default=uuid.uuid4)
    plan_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("plans.id", ondelete="CASCADE"))
    item_kind: Mapped[str] = mapped_column(String(10))
    item_code: Mapped[str] = mapped_column(String(40))
    status: Mapped[str] = mapped_column(String(12))
    attempt: Mapped[int] = mapped_column(Integer)
    description: Mapped[str] = mapped_column(String(2000))
    materials: Mapped[list[dict[str, Any]]] = mapped_column(JSONB)
    submitted_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    assessed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    assessed_by: Mapped[str | None] = mapped_column(String(64), nullable=True)
    comment: Mapped[str | None] = mapped_column(String(1000), nullable=True)
    updated_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), server_default=func.now(), onupdate=func.now()
    )


class CertificationAttempt(Base):
    """One submission of a certification, kept as sent (the certification holds the latest)."""

    __tablename__ = "certification_attempts"

    certification_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("certifications.id", ondelete="CASCADE"), primary_key=True
    )
    attempt: Mapped[int] = mapped_column(Integer, primary_key=True)
    description: Mapped[str] = mapped_column(String(2000))
    materials: Mapped[list[dict[str, Any]]] = mapped_column(JSONB)
    submitted_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class CertificationAssessment(Base):
    """校本应用考核: one assessment by the school (pass, or revise with comments), in order."""

    __tablename__ = "certification_assessments"
    __table_args__ = (CheckConstraint(_within("outcome", get_args(Outcome)), name="outcome"),)

    id: Mapped[int] = mapped_column(BigInteger, Identity(), primary_key=True)
    certification_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("certifications.id", ondelete="CASCADE"), index=True
    )
    attempt: Mapped[int] = mapped_column(Integer)
    outcome: Mapped[str] = mapped_column(String(10))
    comment: Mapped[str | None] = mapped_column(String(1000), nullable=True)
    assessed_by: Mapped[str] = mapped_column(String(64))
    assessed_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), server_default=func.now()
    )


# Lists of certifications are scoped by the plan's stored org path, a project at a time: this
# finds a school's (or county's, city's) plans of a project without reading the others.
Index(
    "ix_plans_project_org",
    Plan.project_id,
    Plan.city_id,
    Plan.county_id,
    Plan.school_id,
)

__all__ = [
    "Certification",
    "CertificationAssessment",
    "CertificationAttempt",
    "CertificationStatus",
    "ItemKind",
    "Outcome",
    "PlanRole",
]
