"""Settings of the credits service (env prefix CREDITS_, falling back to the shared names)."""

from pydantic import Field
from pydantic_settings import SettingsConfigDict

from yanxiu.kit.settings import KitSettings

DEFAULT_PUBLIC_BASE_URL = "http://127.0.0.1:8000/api/v1/credits"
"""The gateway's prefix for credits on a `make run` machine."""


class Settings(KitSettings):
    model_config = SettingsConfigDict(env_prefix="CREDITS_", extra="ignore")

    service_name: str = "credits"

    # Where the public reaches this service (the gateway's prefix for it): certificates' PDF
    # and verification links are built on it, never on the service's internal host and port.
    public_base_url: str = Field(default=DEFAULT_PUBLIC_BASE_URL, pattern=r"^https?://\S+$")
