"""The lessons service: `uvicorn lessons.main:create_app --factory`."""

from fastapi import APIRouter, FastAPI

from lessons.config import Settings
from lessons.models import metadata
from yanxiu.kit.app import ServiceSpec, create_service_app
from yanxiu.kit.settings import KitSettings

SPEC = ServiceSpec(
    name="lessons",
    title="Yanxiu lessons 一师一优课",
    metadata=metadata,
    routers=[APIRouter()],
    settings_factory=Settings,
)


def create_app(settings: KitSettings | None = None) -> FastAPI:
    return create_service_app(SPEC, settings)
