"""Settings of the learning service (env prefix LEARNING_, falling back to the shared names)."""

from pydantic import Field
from pydantic_settings import SettingsConfigDict

from yanxiu.kit.settings import KitSettings


class Settings(KitSettings):
    model_config = SettingsConfigDict(env_prefix="LEARNING_", extra="ignore")

    service_name: str = "learning"

    # --- progress (学习进度): heartbeat verification and write coalescing -----------------
    # A course's video counts as watched when this share of it was really played (verified).
    progress_watch_ratio: float = Field(default=0.95, gt=0, le=1)
    # Real-time rule: claimed playback ≤ server time elapsed × rate + tolerance; unplayed time
    # banks up to max_bank seconds (the app sends its heartbeats in batches).
    progress_max_rate: float = Field(default=1.0, gt=0)
    progress_tolerance_seconds: float = Field(default=3.0, ge=0)
    progress_max_bank_seconds: float = Field(default=120.0, ge=0)
    # Heartbeats are written in batches: at most this many, after waiting this long for more,
    # with up to this many batches in flight.
    progress_batch_max: int = Field(default=1000, ge=1)
    progress_batch_window_ms: float = Field(default=2.0, ge=0)
    progress_batch_concurrency: int = Field(default=2, ge=1)
    # The heartbeat log (one row per heartbeat) is kept this long (learning.progress.housekeeping).
    progress_log_retention_days: float = Field(default=30.0, gt=0)

    # --- providers (第三方平台): signed completions and xAPI --------------------------------
    # base64 of 32 random bytes: encrypts providers' signing secrets at rest (yanxiu.kit.pii);
    # secrets must be recoverable to check HMAC signatures, so they cannot be hashed.
    provider_secret_key: str = ""
    # A signed request's timestamp may differ from the server clock by at most this much.
    provider_signature_window_seconds: int = Field(default=300, ge=1, le=3600)
    # xAPI actors are teachers: account.homePage equals this, account.name is the teacher id.
    xapi_account_home_page: str = "https://yanxiu.example"
