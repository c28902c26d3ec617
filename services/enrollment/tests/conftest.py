"""Enrollment test fixtures: the app on this test's database and broker, with a small org tree."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from typing import Any

import httpx
import pytest_asyncio
from sqlalchemy.ext.asyncio import AsyncSession

from enrollment.config import Settings
from enrollment.main import create_app
from enrollment.models import Org
from yanxiu.kit.deps import runtime
from yanxiu.testing import app_client

ORGS = [
    ("370000", None, "province", "山东省", "370000", None, None),
    ("370100", "370000", "city", "济南市", "370000", None, None),
    ("370102", "370100", "county", "历下区", "370000", "370100", None),
    ("370102-S001", "370102", "school", "历下区实验小学", "370000", "370100", "370102"),
    ("371000", "370000", "city", "威海市", "370000", None, None),
    ("371082", "371000", "county", "荣成市", "370000", "371000", None),
    ("371082-S001", "371082", "school", "荣成市第一实验小学", "370000", "371000", "371082"),
]
LIXIA_SCHOOL = ["370000", "370100", "370102", "370102-S001"]
RONGCHENG_SCHOOL = ["370000", "371000", "371082", "371082-S001"]


async def seed_orgs(session: AsyncSession) -> None:
    for oid, parent, level, name, prov, city, county in ORGS:
        # merge: migration 0002 ships the province, cities and counties already.
        await session.merge(
            Org(
                id=oid,
                parent_id=parent,
                level=level,
                name=name,
                province_id=prov,
                city_id=city or (oid if level == "city" else None),
                county_id=county or (oid if level == "county" else None),
            )
        )
        await session.flush()


@pytest_asyncio.fixture
async def client(settings_for: Callable[..., Any]) -> AsyncIterator[httpx.AsyncClient]:
    app = create_app(settings_for(Settings))
    async with app_client(app) as c:
        rt = app.state.runtime
        async with rt.session_factory() as session, session.begin():
            await seed_orgs(session)
        c.app = app  # type: ignore[attr-defined]
        yield c


__all__ = ["LIXIA_SCHOOL", "RONGCHENG_SCHOOL", "runtime"]
