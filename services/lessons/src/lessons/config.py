"""Settings of the lessons service (env prefix LESSONS_, falling back to the shared names)."""

from pydantic_settings import SettingsConfigDict

from yanxiu.kit.settings import KitSettings


class Settings(KitSettings):
    model_config = SettingsConfigDict(env_prefix="LESSONS_", extra="ignore")

    service_name: str = "lessons"
