"""Settings of the lessons service (env prefix LESSONS_, falling back to the shared names)."""

from datetime import date

from pydantic import Field
from pydantic_settings import SettingsConfigDict

from yanxiu.kit.settings import KitSettings


class Settings(KitSettings):
    model_config = SettingsConfigDict(env_prefix="LESSONS_", extra="ignore")

    service_name: str = "lessons"
    # Enrollment serves teacher names and (to the admins allowed) full ID numbers for exports.
    enrollment_url: str = "http://127.0.0.1:8101"
    enrollment_timeout_s: float = 10.0
    # Per-year overrides of data/calendar.json (市级优课提交截止, inclusive, Asia/Shanghai),
    # e.g. LESSONS_CITY_LEVEL_DEADLINES='{"2024": "2024-09-27"}'.
    city_level_deadlines: dict[int, date] = Field(default_factory=dict)
