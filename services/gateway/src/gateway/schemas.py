"""Request and response models of the gateway's own API."""

from __future__ import annotations

from pydantic import BaseModel, Field


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
