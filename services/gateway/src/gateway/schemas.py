"""Request and response models of the gateway's own API."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field

from yanxiu.kit.auth import Role

# An org id as enrollment writes them (division codes, schools `<county>-S<n>`).
OrgId = Annotated[str, Field(min_length=1, max_length=40, pattern=r"^[0-9A-Za-z_-]+$")]


class Credentials(BaseModel):
    """Sign-in form; the OAuth2 password form's other fields (grant_type, scope…) are ignored."""

    username: str = Field(min_length=1, max_length=100)
    password: str = Field(min_length=1, max_length=1024)


class TokenResponse(BaseModel):
    access_token: str
    token_type: str = "bearer"
    expires_in: int = Field(description="Seconds until the access token expires")
    refresh_token: str = Field(
        description="Exchange at /api/v1/auth/refresh for a new pair; each works once"
    )
    refresh_expires_in: int = Field(description="Seconds the refresh token stays usable unused")
    role: str
    org_path: list[str]


class AccountCreate(BaseModel):
    """开通账号: an admin opens an account for the level below it (or a teacher of its school)."""

    username: str = Field(min_length=3, max_length=100, pattern=r"^[A-Za-z0-9._@-]+$")
    password: str = Field(min_length=8, max_length=1024)
    role: Role
    org_path: list[OrgId] = Field(
        min_length=1,
        max_length=4,
        description="province → … → the account's own unit, as enrollment stores it",
    )
    name: str = Field(min_length=1, max_length=50)
    teacher_id: uuid.UUID | None = Field(
        default=None, description="teachers only: the teacher at that school in enrollment"
    )


class AccountRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    username: str
    role: str
    org_path: list[str]
    name: str
    teacher_id: uuid.UUID | None
    active: bool
    created_at: datetime | None = None
    last_login_at: datetime | None = None
