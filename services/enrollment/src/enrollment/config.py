"""Settings of the enrollment service (env prefix ENROLLMENT_, falling back to the shared names)."""

from pydantic_settings import SettingsConfigDict

from yanxiu.kit.settings import KitSettings


class Settings(KitSettings):
    model_config = SettingsConfigDict(env_prefix="ENROLLMENT_", extra="ignore")

    service_name: str = "enrollment"
    # base64 of 32 random bytes; encrypts ID numbers and phones (see yanxiu.kit.pii).
    pii_key: str = ""
    # 核对 (enrollment.reconcile): the services whose rosters are compared with enrollment's,
    # asked directly (not through the gateway) with the admin's own token.
    learning_url: str = "http://127.0.0.1:8102"
    credits_url: str = "http://127.0.0.1:8103"
    lessons_url: str = "http://127.0.0.1:8104"
    insights_url: str = "http://127.0.0.1:8105"
    roster_timeout_seconds: float = 30.0
