"""Request and response models of the org tree (组织机构)."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict


class OrgRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: str
    parent_id: str | None
    level: str
    name: str
