"""The lessons service (一师一优课): `uvicorn lessons.main:create_app --factory`."""

from fastapi import FastAPI

from lessons.allocation.api import router as allocation_router
from lessons.allocation.consumers import enrollment_events
from lessons.config import Settings
from lessons.models import metadata
from lessons.reviews.api import router as reviews_router
from lessons.roster.api import router as roster_router
from lessons.showcase.api import router as showcase_router
from yanxiu.contracts.lessons import LESSONS_TOPIC
from yanxiu.kit.app import ServiceSpec, create_service_app
from yanxiu.kit.settings import KitSettings

SPEC = ServiceSpec(
    name="lessons",
    title="Yanxiu lessons 一师一优课",
    metadata=metadata,
    routers=[showcase_router, allocation_router, reviews_router, roster_router],
    settings_factory=Settings,
    subscribers=[enrollment_events],
    produces=[LESSONS_TOPIC],
)


def create_app(settings: KitSettings | None = None) -> FastAPI:
    return create_service_app(SPEC, settings)
