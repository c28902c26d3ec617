"""The credits service: `uvicorn credits.main:create_app --factory`."""

from fastapi import APIRouter, FastAPI

from credits.config import Settings
from credits.models import metadata
from yanxiu.kit.app import ServiceSpec, create_service_app
from yanxiu.kit.settings import KitSettings

SPEC = ServiceSpec(
    name="credits",
    title="Yanxiu credits 学分登记",
    metadata=metadata,
    routers=[APIRouter()],
    settings_factory=Settings,
)


def create_app(settings: KitSettings | None = None) -> FastAPI:
    return create_service_app(SPEC, settings)
