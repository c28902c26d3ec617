"""Request and response models of the learning API."""

from __future__ import annotations

import uuid
from datetime import datetime

from pydantic import BaseModel, ConfigDict


class PlanRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    teacher_id: uuid.UUID
    project_id: uuid.UUID
    project_year: int
    stage: str
    subject: str
    school_id: str
    status: str
    created_at: datetime
