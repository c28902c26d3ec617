"""The enrollment service (信息采集与报名): `uvicorn enrollment.main:create_app --factory`."""

from fastapi import FastAPI

from enrollment.api import router
from enrollment.config import Settings
from enrollment.models import metadata
from yanxiu.contracts.enrollment import ENROLLMENT_TOPIC
from yanxiu.kit.app import ServiceSpec, create_service_app
from yanxiu.kit.settings import KitSettings

SPEC = ServiceSpec(
    name="enrollment",
    title="Yanxiu enrollment 信息采集与报名",
    metadata=metadata,
    routers=[router],
    settings_factory=Settings,
    produces=[ENROLLMENT_TOPIC],
)


def create_app(settings: KitSettings | None = None) -> FastAPI:
    return create_service_app(SPEC, settings)
