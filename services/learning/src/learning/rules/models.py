"""Tables of rules: the rule set each project runs under."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import DateTime, Integer, String, func
from sqlalchemy.dialects.postgresql import JSONB, UUID
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
