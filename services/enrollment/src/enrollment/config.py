"""Settings of the enrollment service (env prefix ENROLLMENT_, falling back to the shared names)."""

from pydantic_settings import SettingsConfigDict

from yanxiu.kit.settings import KitSettings


class Settings(KitSettings):
    model_config = SettingsConfigDict(env_prefix="ENROLLMENT_", extra="ignore")

    service_name: str = "enrollment"
    # base64 of 32 random bytes; encrypts ID numbers and phones (see yanxiu.kit.pii).
    pii_key: str = ""
