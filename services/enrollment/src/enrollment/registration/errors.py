"""Errors of training projects that concern their owner (项目归属), one per rule; the rest of
registration's errors are enrollment's (`enrollment.errors`)."""

from __future__ import annotations

from yanxiu.kit.errors import DomainError

OWNER_LEVELS = ("province", "city")


class ProjectOwnerLevel(DomainError):
    status = 422
    code = "project_owner_level"
    title_zh = "培训项目只能归属于省或市（市级项目如肇庆、合肥的全员培训）"
    title_en = "A training project belongs to a province or a city (a city-run programme)"
