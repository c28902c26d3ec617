"""Tables of the learning schema."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Literal

from sqlalchemy import DateTime, String, UniqueConstraint, func
from sqlalchemy.dialects.postgresql import UUID
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from yanxiu.kit.db import service_metadata
from yanxiu.kit.tables import machinery_tables

SCHEMA = "learning"
metadata = service_metadata(SCHEMA)
machinery = machinery_tables(metadata)


class Base(DeclarativeBase):
    metadata = metadata


# active; withdrawn (退出项目: enrollment withdrew the registration); departed (离职: suspended
# while the teacher is in the departed pool, active again when a school takes them in).
PlanStatus = Literal["active", "withdrawn", "departed"]


class Plan(Base):
    """学习计划: a registered teacher's learning plan in one project, built from enrollment's
    TeacherRegistered event (a local read model: learning never reads enrollment's tables)."""

    __tablename__ = "plans"

    id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), primary_key=True, default=uuid.uuid4)
    teacher_id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), index=True)
    project_id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True))
    registration_id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True))
    project_year: Mapped[int]
    teacher_name: Mapped[str] = mapped_column(String(50))
    stage: Mapped[str] = mapped_column(String(20))
    subject: Mapped[str] = mapped_column(String(40))
    province_id: Mapped[str] = mapped_column(String(40))
    city_id: Mapped[str] = mapped_column(String(40))
    county_id: Mapped[str] = mapped_column(String(40))
    school_id: Mapped[str] = mapped_column(String(40))
    status: Mapped[str] = mapped_column(String(20), default="active")
    # 开始学习: the teacher's first accepted heartbeat or first counted completion in the
    # project; set once (`WHERE started_at IS NULL`), the moment StudyStarted is written.
    started_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    updated_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), server_default=func.now(), onupdate=func.now()
    )

    __table_args__ = (UniqueConstraint("teacher_id", "project_id"),)

    @property
    def org_path(self) -> list[str]:
        return [self.province_id, self.city_id, self.county_id, self.school_id]


# Each feature package declares its tables on the same metadata; importing them here lets
# alembic and the app see the whole schema. (Placed last: they import Base from this module.)
from learning.abilities import models as _abilities  # noqa: E402
from learning.attainment import models as _attainment  # noqa: E402
from learning.catalog import models as _catalog  # noqa: E402
from learning.progress import models as _progress  # noqa: E402
from learning.providers import models as _providers  # noqa: E402
from learning.rules import models as _rules  # noqa: E402
from learning.schools import models as _schools  # noqa: E402
from learning.selection import models as _selection  # noqa: E402

__all__ = [
    "Base",
    "Plan",
    "PlanStatus",
    "_abilities",
    "_attainment",
    "_catalog",
    "_progress",
    "_providers",
    "_rules",
    "_schools",
    "_selection",
]
