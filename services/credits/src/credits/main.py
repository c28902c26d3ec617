"""The credits service (学分登记): `uvicorn credits.main:create_app --factory`."""

from fastapi import FastAPI

from credits.certificates.api import router as certificates_router
from credits.config import Settings
from credits.ledger.api import router as ledger_router
from credits.ledger.consumers import upstream_events
from credits.models import metadata
from credits.records.api import router as records_router
from credits.roster.api import router as roster_router
from yanxiu.contracts.credits import CREDITS_TOPIC
from yanxiu.kit.app import ServiceSpec, create_service_app
from yanxiu.kit.settings import KitSettings

SPEC = ServiceSpec(
    name="credits",
    title="Yanxiu credits 学分登记",
    metadata=metadata,
    routers=[ledger_router, records_router, certificates_router, roster_router],
    settings_factory=Settings,
    subscribers=[upstream_events],
    produces=[CREDITS_TOPIC],
)


def create_app(settings: KitSettings | None = None) -> FastAPI:
    return create_service_app(SPEC, settings)
