"""Request and response bodies of certificates."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field


class IssueIn(BaseModel):
    """A teacher asks for their own (`teacher_id` may be left out); an admin names the teacher.
    The name and org printed come from credits' teacher read model (enrollment's events), so
    the body carries nothing else: a `teacher_name` or `org` is refused (422)."""

    model_config = ConfigDict(extra="forbid")

    year: int = Field(ge=2000, le=2100)
    teacher_id: uuid.UUID | None = None


class CategoryHoursOut(BaseModel):
    """One line of the certificate: a category's code, the region's Chinese name for it (as
    printed on the PDF, e.g. 公需科目, 网络研修) and its counted hours."""

    code: str
    category_name: str
    hours: str


class CertificateOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    code: str
    teacher_id: uuid.UUID
    teacher_name: str
    year: int
    region: str
    hours_by_category: dict[str, Any]
    categories: list[CategoryHoursOut] = Field(default_factory=list)
    total_hours: str
    status: str
    issued_at: datetime
    revoked_at: datetime | None
    revoke_reason: str | None
    pdf_url: str = ""
    verify_url: str = ""


class VerifyOut(BaseModel):
    """What anyone may learn from a code: no ids, a masked name."""

    code: str
    valid: bool
    status_zh: str
    masked_name: str
    year: int
    hours_by_category: dict[str, Any]
    categories: list[CategoryHoursOut] = Field(default_factory=list)
    total_hours: str
    issued_at: datetime
    revoked_at: datetime | None = None
    revoke_reason: str | None = None
