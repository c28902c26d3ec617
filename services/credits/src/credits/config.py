"""Settings of the credits service (env prefix CREDITS_, falling back to the shared names)."""

from pydantic_settings import SettingsConfigDict

from yanxiu.kit.settings import KitSettings


class Settings(KitSettings):
    model_config = SettingsConfigDict(env_prefix="CREDITS_", extra="ignore")

    service_name: str = "credits"
