"""Request and response models of the gateway's own API."""

from __future__ import annotations

import uuid

from pydantic import BaseModel, ConfigDict, Field

from yanxiu.kit.auth import Role


class Credentials(BaseModel):
    """Sign-in form; the OAuth2 password form's other fields (grant_type, scope…) are ignored."""

    username: str = Field(min_length=1, max_length=100)
    password: str = Field(min_length=1, max_length=1024)


class TokenResponse(BaseModel):
    access_token: str
    token_type: str = "bearer"
    expires_in: int = Field(description="Seconds until the token expires")
    role: str
    org_path: list[str]


class AccountCreate(BaseModel):
    """开通账号: an admin opens an account for the level below it (or a teacher of its school)."""

    username: str = Field(min_length=3, max_length=100, pattern=r"^[A-Za-z0-9._@-]+$")
    password: str = Field(min_length=8, max_length=1024)
    role: Role
    org_path: list[str] = Field(
        min_length=1, max_length=4, description="province → … → the account's own unit"
    )
    name: str = Field(min_length=1, max_length=50)
    teacher_id: uuid.UUID | None = Field(default=None, description="required for teachers")


class AccountRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    username: str
    role: str
    org_path: list[str]
    name: str
    teacher_id: uuid.UUID | None
    active: bool
