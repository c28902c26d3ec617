"""Request and response models: 教师信息批量导入与导出."""

from __future__ import annotations

from pydantic import BaseModel, Field


class ImportRead(BaseModel):
    imported: int = Field(description="导入的教师人数 (teachers imported)")
