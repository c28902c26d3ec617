"""The learning service (课程学习): `uvicorn learning.main:create_app --factory`."""

from fastapi import FastAPI

from learning.api import router
from learning.config import Settings
from learning.consumers import enrollment_events
from learning.models import metadata
from yanxiu.kit.app import ServiceSpec, create_service_app
from yanxiu.kit.settings import KitSettings

SPEC = ServiceSpec(
    name="learning",
    title="Yanxiu learning 课程学习",
    metadata=metadata,
    routers=[router],
    settings_factory=Settings,
    subscribers=[enrollment_events],
    produces=["learning.events.v1"],
)


def create_app(settings: KitSettings | None = None) -> FastAPI:
    return create_service_app(SPEC, settings)
