"""Settings of the insights service (env prefix INSIGHTS_, falling back to the shared names)."""

from pydantic_settings import SettingsConfigDict

from yanxiu.kit.settings import KitSettings


class Settings(KitSettings):
    model_config = SettingsConfigDict(env_prefix="INSIGHTS_", extra="ignore")

    service_name: str = "insights"
    # Enrollment serves the orgs' names (the events carry only ids), asked with the caller's
    # own token and kept in insights.org_names.
    enrollment_url: str = "http://127.0.0.1:8101"
    enrollment_timeout_s: float = 5.0
