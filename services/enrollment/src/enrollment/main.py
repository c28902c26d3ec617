"""The enrollment service (信息采集与报名): `uvicorn enrollment.main:create_app --factory`."""

import sys

from fastapi import FastAPI

from enrollment.config import Settings
from enrollment.imports.api import router as imports_router
from enrollment.models import metadata
from enrollment.orgs.api import router as orgs_router
from enrollment.reconcile.api import router as reconcile_router
from enrollment.registration.api import router as registration_router
from enrollment.teachers.api import router as teachers_router
from enrollment.workshops.api import router as workshops_router
from yanxiu.contracts.enrollment import ENROLLMENT_TOPIC
from yanxiu.kit.app import Runtime, ServiceSpec, create_service_app
from yanxiu.kit.pii import PiiCipher
from yanxiu.kit.settings import KitSettings

# Imports are parsed and checked in worker threads (enrollment.imports); a thread holding the
# GIL hands it back to the event loop after this long. CPython's 5 ms let the loop lag 100–240 ms
# during a 20,000-row XLSX import on a 2-core machine; 1 ms kept it under ~70 ms.
GIL_SWITCH_INTERVAL_S = 0.001


async def _startup(rt: Runtime) -> None:
    sys.setswitchinterval(GIL_SWITCH_INTERVAL_S)
    key = getattr(rt.settings, "pii_key", "")
    if not key:
        raise RuntimeError("ENROLLMENT_PII_KEY is not set: ID numbers cannot be encrypted")
    rt.extras["pii"] = PiiCipher(key)


SPEC = ServiceSpec(
    name="enrollment",
    title="Yanxiu enrollment 信息采集与报名",
    metadata=metadata,
    routers=[
        imports_router,
        orgs_router,
        teachers_router,
        registration_router,
        workshops_router,
        reconcile_router,
    ],
    settings_factory=Settings,
    produces=[ENROLLMENT_TOPIC],
    on_startup=_startup,
)


def create_app(settings: KitSettings | None = None) -> FastAPI:
    return create_service_app(SPEC, settings)
