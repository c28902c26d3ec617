"""Request models of the account resource beyond opening (gateway.schemas has AccountCreate
and AccountRead)."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field


class AccountUpdate(BaseModel):
    """修改账号: only the fields sent change. `active: false` disables the account and a new
    `password` resets it; both end every session the account has."""

    model_config = ConfigDict(extra="forbid")

    name: str | None = Field(default=None, min_length=1, max_length=50)
    active: bool | None = None
    password: str | None = Field(default=None, min_length=8, max_length=1024)
