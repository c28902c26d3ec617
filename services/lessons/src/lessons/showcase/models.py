"""Tables of showcase: who selected a lesson at which level (晒课/赛课 逐级遴选), the awards
(市级奖级, 省级优课) and the per-city quota counters that make awarding concurrency-safe."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import (
    BigInteger,
    CheckConstraint,
    DateTime,
    ForeignKey,
    Identity,
    Integer,
    String,
    UniqueConstraint,
    func,
)
from sqlalchemy.dialects.postgresql import UUID
from sqlalchemy.orm import Mapped, mapped_column

from lessons.models import Base


class LessonPromotion(Base):
    """One selection of a lesson at one level (school, county, city or province)."""

    __tablename__ = "lesson_promotions"
    __table_args__ = (UniqueConstraint("lesson_id", "level"),)

    id: Mapped[int] = mapped_column(BigInteger, Identity(), primary_key=True)
    lesson_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("lessons.id"), index=True)
    level: Mapped[str] = mapped_column(String(20))
    org_id: Mapped[str] = mapped_column(String(40))
    promoted_by: Mapped[str] = mapped_column(String(100))
    promoted_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), server_default=func.now()
    )


class LessonAward(Base):
    """市级奖级 (scope city: first/second/third) or 省级优课 (scope province: provincial);
    at most one of each per lesson."""

    __tablename__ = "lesson_awards"
    __table_args__ = (
        UniqueConstraint("lesson_id", "scope"),
        CheckConstraint(
            "(scope = 'city' AND award IN ('first', 'second', 'third'))"
            " OR (scope = 'province' AND award = 'provincial')",
            name="award_scope",
        ),
    )

    id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), primary_key=True, default=uuid.uuid4)
    lesson_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("lessons.id"), index=True)
    year: Mapped[int] = mapped_column(Integer)
    city_id: Mapped[str] = mapped_column(String(40))
    scope: Mapped[str] = mapped_column(String(10))
    award: Mapped[str] = mapped_column(String(12))
    awarded_by: Mapped[str] = mapped_column(String(100))
    awarded_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())


class CityQuotaCounter(Base):
    """A city's places for one award level in one year, and how many are used. Awarding bumps
    `used` with a guarded UPDATE (row lock), so two concurrent awards never overrun `quota`;
    the CHECK holds even against code that forgets."""

    __tablename__ = "city_quota_counters"
    __table_args__ = (CheckConstraint("used >= 0 AND used <= quota", name="within_quota"),)

    year: Mapped[int] = mapped_column(Integer, primary_key=True)
    city_id: Mapped[str] = mapped_column(String(40), primary_key=True)
    award: Mapped[str] = mapped_column(String(10), primary_key=True)
    quota: Mapped[int] = mapped_column(Integer)
    used: Mapped[int] = mapped_column(Integer, default=0)


__all__ = ["CityQuotaCounter", "LessonAward", "LessonPromotion"]
