"""The insights service (看板): `uvicorn insights.main:create_app --factory`.

A read side only: it consumes every service's topic into its own tables and serves the
dashboards; it produces no events."""

from fastapi import FastAPI

from insights.config import Settings
from insights.dashboard.api import router as dashboard_router
from insights.feed.consumers import every_topic
from insights.models import metadata
from insights.roster.api import router as roster_router
from yanxiu.kit.app import ServiceSpec, create_service_app
from yanxiu.kit.settings import KitSettings

SPEC = ServiceSpec(
    name="insights",
    title="Yanxiu insights 看板",
    metadata=metadata,
    routers=[dashboard_router, roster_router],
    settings_factory=Settings,
    subscribers=[every_topic],
)


def create_app(settings: KitSettings | None = None) -> FastAPI:
    return create_service_app(SPEC, settings)
