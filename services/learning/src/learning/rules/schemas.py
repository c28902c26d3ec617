"""Request and response models of rules."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from decimal import Decimal

from pydantic import BaseModel, Field, model_validator

from learning.rules.ruleset import DateWindow, LateCompletions, RuleSet, WindowName


class ProjectRulesPut(BaseModel):
    """Either a shipped rule set by `rule_set` code (with optional `windows` overrides), or a
    whole new `document` for a year whose rules are not shipped (validated, no code change)."""

    year: int = Field(ge=2000, le=2100)
    rule_set: str | None = Field(default=None, max_length=60)
    document: RuleSet | None = None
    windows: dict[WindowName, DateWindow] | None = Field(default=None, max_length=3)
    # With a shipped rule set: refuse (default) or hold late completions for an admin.
    late_completions: LateCompletions | None = None

    @model_validator(mode="after")
    def _one_source(self) -> ProjectRulesPut:
        if (self.rule_set is None) == (self.document is None):
            raise ValueError("give exactly one of rule_set or document")
        return self

    @model_validator(mode="after")
    def _windows_fall_in_the_year(self) -> ProjectRulesPut:
        # "02-29" passes the shape check (2024 is a leap year) but has no day in 2023: refused
        # here, or every later read and window check of the project would fail on it.
        given = {**(self.document.windows if self.document else {}), **(self.windows or {})}
        for name, window in given.items():
            try:
                window.resolve(self.year)
            except ValueError as exc:
                raise ValueError(
                    f"{name}: {self.year} 年没有这一天 (no such day in {self.year})"
                ) from exc
        return self


class WindowRead(BaseModel):
    name: str
    name_zh: str
    opens_on: date
    closes_on: date


class ProjectRulesRead(BaseModel):
    project_id: uuid.UUID
    year: int
    rule_set: RuleSet
    windows: list[WindowRead]
    assigned_by: str
    assigned_at: datetime


class RuleSetSummary(BaseModel):
    code: str
    name: str
    total_min_hours: Decimal
    total_max_hours: Decimal | None
