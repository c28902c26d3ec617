"""Tables of certificates (继续教育证书)."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import DateTime, Index, Integer, String, Text, func, text
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column

from credits.models import Base


class Certificate(Base):
    """A teacher's certificate for one year; at most one valid one per (teacher, year), kept
    forever once revoked (作废) so its code still verifies as revoked."""

    __tablename__ = "certificates"

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    code: Mapped[str] = mapped_column(String(32), unique=True)
    teacher_id: Mapped[uuid.UUID] = mapped_column(index=True)
    teacher_name: Mapped[str] = mapped_column(String(64))
    province_id: Mapped[str] = mapped_column(String(32))
    city_id: Mapped[str] = mapped_column(String(32))
    county_id: Mapped[str] = mapped_column(String(32))
    school_id: Mapped[str] = mapped_column(String(64))
    year: Mapped[int] = mapped_column(Integer)
    region: Mapped[str] = mapped_column(String(32))
    # {category: hours as a string}; Decimal does not round-trip through JSON.
    hours_by_category: Mapped[dict[str, Any]] = mapped_column(JSONB)
    total_hours: Mapped[str] = mapped_column(String(16))
    status: Mapped[str] = mapped_column(String(16), default="valid")
    issued_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    revoked_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    revoke_reason: Mapped[str | None] = mapped_column(Text)

    __table_args__ = (
        Index(
            "uq_certificates_valid_teacher_year",
            "teacher_id",
            "year",
            unique=True,
            postgresql_where=text("status = 'valid'"),
        ),
    )

    def org_path(self) -> list[str]:
        return [self.province_id, self.city_id, self.county_id, self.school_id]
