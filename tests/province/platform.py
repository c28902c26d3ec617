"""The whole platform for black-box tests: the five services and the gateway, each served by
uvicorn on a real port, on one fresh database and the test's broker topics."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator, Callable
from typing import Any

from credits.config import Settings as CreditsSettings
from credits.main import create_app as credits_app
from enrollment.config import Settings as EnrollmentSettings
from enrollment.main import create_app as enrollment_app
from gateway.config import GatewaySettings
from gateway.main import create_app as gateway_app
from insights.config import Settings as InsightsSettings
from insights.main import create_app as insights_app
from learning.config import Settings as LearningSettings
from learning.main import create_app as learning_app
from lessons.config import Settings as LessonsSettings
from lessons.main import create_app as lessons_app
from yanxiu.devstack.broker import free_ports
from yanxiu.kit.pii import generate_key
from yanxiu.testing import served

SERVICES = {
    "enrollment": (enrollment_app, EnrollmentSettings),
    "learning": (learning_app, LearningSettings),
    "credits": (credits_app, CreditsSettings),
    "lessons": (lessons_app, LessonsSettings),
    "insights": (insights_app, InsightsSettings),
}
PROVIDER_SECRET_KEY = generate_key()


@contextlib.asynccontextmanager
async def platform(
    settings_for: Callable[..., Any], private_key_pem: str, **gateway_overrides: Any
) -> AsyncIterator[dict[str, str]]:
    """Serves every service and the gateway; yields their base URLs by name ("gateway" too)."""
    # Ports chosen up front: lessons asks enrollment for the teachers of its exports, insights
    # for the orgs' names, and enrollment asks the others for their rosters (enrollment.reconcile).
    ports = dict(zip(SERVICES, free_ports(len(SERVICES)), strict=True))
    urls = {name: f"http://127.0.0.1:{port}" for name, port in ports.items()}
    peers: dict[str, dict[str, str]] = {
        "lessons": {"enrollment_url": urls["enrollment"]},
        "insights": {"enrollment_url": urls["enrollment"]},
        "enrollment": {f"{n}_url": urls[n] for n in ("learning", "credits", "lessons", "insights")},
    }
    async with contextlib.AsyncExitStack() as stack:
        for name, (factory, settings_cls) in SERVICES.items():
            extra = peers.get(name, {})
            settings = settings_for(settings_cls, provider_secret_key=PROVIDER_SECRET_KEY, **extra)
            await stack.enter_async_context(served(factory(settings), port=ports[name]))
        gateway = gateway_app(
            settings_for(
                GatewaySettings,
                jwt_private_key=private_key_pem,
                rate_limit_enabled=False,
                **{f"{name}_url": url for name, url in urls.items()},
                **gateway_overrides,
            )
        )
        urls["gateway"] = await stack.enter_async_context(served(gateway))
        yield urls
