"""Settings of the learning service (env prefix LEARNING_, falling back to the shared names)."""

from pydantic_settings import SettingsConfigDict

from yanxiu.kit.settings import KitSettings


class Settings(KitSettings):
    model_config = SettingsConfigDict(env_prefix="LEARNING_", extra="ignore")

    service_name: str = "learning"
