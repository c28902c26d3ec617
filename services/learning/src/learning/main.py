"""The learning service (课程学习): `uvicorn learning.main:create_app --factory`."""

from fastapi import FastAPI

from learning.abilities.api import router as abilities_router
from learning.api import router as plans_router
from learning.attainment.api import router as attainment_router
from learning.attainment.consumers import lessons_events
from learning.catalog.api import router as catalog_router
from learning.config import Settings
from learning.consumers import enrollment_events
from learning.models import metadata
from learning.progress.api import heartbeat
from learning.progress.api import router as progress_router
from learning.progress.housekeeping import heartbeat_log_jobs
from learning.providers.api import router as providers_router
from learning.providers.xapi_alternate import AlternateRequestSyntax
from learning.roster.api import router as roster_router
from learning.rules.api import router as rules_router
from learning.selection.api import router as selection_router
from yanxiu.contracts.learning import LEARNING_TOPIC
from yanxiu.kit.app import ServiceSpec, create_service_app
from yanxiu.kit.settings import KitSettings

SPEC = ServiceSpec(
    name="learning",
    title="Yanxiu learning 课程学习",
    metadata=metadata,
    routers=[
        plans_router,
        catalog_router,
        rules_router,
        selection_router,
        attainment_router,
        progress_router,
        providers_router,
        abilities_router,
        roster_router,
    ],
    settings_factory=Settings,
    subscribers=[enrollment_events, lessons_events],
    produces=[LEARNING_TOPIC],
    hot_routes={("POST", "/progress"): heartbeat},
    housekeeping=heartbeat_log_jobs,
    middleware=[AlternateRequestSyntax],
)


def create_app(settings: KitSettings | None = None) -> FastAPI:
    return create_service_app(SPEC, settings)
