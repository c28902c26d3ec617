"""Tables of rules: the rule set each project runs under."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import DateTime, Integer, String, func
from sqlalchemy.dialects.postgresql import ARRAY, JSONB, UUID
from sqlalchemy.orm import Mapped, mapped_column

from learning.models import Base


class ProjectRules(Base):
    """学习规则: the resolved rule set of one project (a shipped set, possibly with
    overrides, or a posted document), kept whole so later edits of a shipped file do not
    change a running project silently. Keyed by project id: learning knows projects only
    from enrollment's events."""

    __tablename__ = "project_rules"

    project_id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), primary_key=True)
    year: Mapped[int] = mapped_column(Integer)
    ruleset_code: Mapped[str] = mapped_column(String(60))
    ruleset: Mapped[dict[str, Any]] = mapped_column(JSONB)
    assigned_by: Mapped[str] = mapped_column(String(64))
    assigned_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), server_default=func.now(), onupdate=func.now()
    )


class Project(Base):
    """培训项目: a project as enrollment's `ProjectOpened` told learning (a read model: learning
    never reads enrollment's tables). `owner_org_path` is the org that runs it, from the
    province down (a province, or a city for a city-run programme); None when the project was
    opened before enrollment named owners. It decides who may set the project's rules."""

    __tablename__ = "projects"

    project_id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), primary_key=True)
    year: Mapped[int] = mapped_column(Integer)
    stage: Mapped[str] = mapped_column(String(20))
    owner_org_id: Mapped[str | None] = mapped_column(String(40))
    owner_org_path: Mapped[list[str] | None] = mapped_column(ARRAY(String(40)))
    rule_set: Mapped[str | None] = mapped_column(String(60))
    updated_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), server_default=func.now(), onupdate=func.now()
    )
