"""Table of the schools read model."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import DateTime, String, func
from sqlalchemy.orm import Mapped, mapped_column

from learning.models import Base


class School(Base):
    """学校: a school's org path as enrollment's teacher events carry it (every one names the
    teacher's school with its county, city and province). Learning never reads enrollment's
    tables: this row is what decides who may read or change the school's topic choice. A
    school no teacher event has named yet is unknown here (404)."""

    __tablename__ = "schools"

    school_id: Mapped[str] = mapped_column(String(40), primary_key=True)
    province_id: Mapped[str] = mapped_column(String(40))
    city_id: Mapped[str] = mapped_column(String(40))
    county_id: Mapped[str] = mapped_column(String(40))
    updated_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), server_default=func.now(), onupdate=func.now()
    )

    @property
    def org_path(self) -> list[str]:
        return [self.province_id, self.city_id, self.county_id, self.school_id]
