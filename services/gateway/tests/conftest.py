"""Fixtures of the gateway's tests: the gateway in-process (with its lifespan) on a fresh migrated
database, accounts made through the service, and small real upstream services served by uvicorn
on free ports."""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import uuid
from collections.abc import AsyncIterator, Callable
from typing import Annotated, Any

import httpx
import pytest
import pytest_asyncio
from fastapi import FastAPI, Header, Request, Response
from fastapi.responses import StreamingResponse
from pydantic import BaseModel
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from gateway import service
from gateway.config import SERVICES, GatewaySettings
from gateway.main import create_app
from gateway.models import Account
from yanxiu.kit.db import make_engine, make_session_factory
from yanxiu.testing import app_client, free_port, served

PASSWORD = "研修-Passw0rd!"

GatewayFactory = Callable[..., contextlib.AbstractAsyncContextManager[httpx.AsyncClient]]


def closed_url() -> str:
    """A URL nothing listens on: connecting is refused at once."""
    return f"http://127.0.0.1:{free_port()}"


# --- upstream services ------------------------------------------------------------------------


class TeacherRead(BaseModel):
    id: str
    name: str
    school: SchoolRead | None = None


class SchoolRead(BaseModel):
    id: str
    name: str


TeacherRead.model_rebuild()


class ProjectRead(BaseModel):
    id: str
    year: int


def echo_service(name: str) -> FastAPI:
    """A tiny real service: echoes what reached it, plus a few shapes of answer."""
    app = FastAPI(title=f"fake {name}")

    @app.get("/readyz", tags=["ops"])
    async def readyz() -> dict[str, str]:
        return {"status": "ok"}

    @app.get("/healthz", tags=["ops"])
    async def healthz() -> dict[str, str]:
        return {"status": "ok"}

    @app.api_route(
        "/echo/{rest:path}",
        methods=["GET", "POST", "PUT", "PATCH", "DELETE"],
        include_in_schema=False,  # one operation id for five methods would clash
    )
    async def echo(rest: str, request: Request) -> dict[str, Any]:
        body = await request.body()
        return {
            "service": name,
            "method": request.method,
            "path": request.url.path,
            "raw_path": request.scope["raw_path"].decode(),
            "query": request.url.query,
            "headers": [[k, v] for k, v in request.headers.items()],
            "body": body.decode(errors="replace"),
        }

    @app.post("/digest", tags=["echo"])
    async def digest(request: Request) -> dict[str, Any]:
        h = hashlib.sha256()
        size = 0
        async for chunk in request.stream():
            h.update(chunk)
            size += len(chunk)
        return {"size": size, "sha256": h.hexdigest()}

    @app.get("/bytes/{n}", tags=["echo"])
    async def many_bytes(n: int) -> StreamingResponse:
        async def chunks() -> AsyncIterator[bytes]:
            for start in range(0, n, 65536):
                yield b"x" * min(65536, n - start)

        return StreamingResponse(chunks(), media_type="application/octet-stream")

    @app.post("/created", status_code=201, tags=["echo"])
    async def created(response: Response) -> dict[str, str]:
        response.headers["Location"] = "/things/1"
        response.set_cookie("a", "1")
        response.set_cookie("b", "2")
        return {"id": "1"}

    @app.get("/slow", tags=["echo"])
    async def slow(seconds: float = 2.0) -> dict[str, str]:
        await asyncio.sleep(seconds)
        return {"status": "late"}

    @app.get("/teachers/{teacher_id}", response_model=TeacherRead, tags=["teachers"])
    async def get_teacher(
        teacher_id: str, authorization: Annotated[str | None, Header()] = None
    ) -> TeacherRead:
        return TeacherRead(id=teacher_id, name="张老师")

    @app.get("/projects", response_model=list[ProjectRead], tags=["projects"])
    async def list_projects(year: int | None = None) -> list[ProjectRead]:
        return []

    return app


def not_ready_service() -> FastAPI:
    app = FastAPI(title="not ready")

    @app.get("/readyz")
    async def readyz() -> Response:
        return Response('{"status":"unavailable"}', status_code=503)

    return app


def degraded_service() -> FastAPI:
    """Serving, but without its broker: a service's /readyz in a Kafka outage."""
    app = FastAPI(title="degraded")

    @app.get("/readyz")
    async def readyz() -> dict[str, Any]:
        checks = {"database": "ok", "broker": "unavailable", "events": "error: relay failing"}
        return {"status": "degraded", "checks": checks}

    return app


@pytest.fixture
def serve_upstream() -> Callable[..., contextlib.AbstractAsyncContextManager[str]]:
    """`async with serve_upstream("credits", port) as url:` a fake service this test stops."""
    return lambda name, port=None: served(echo_service(name), port)


@pytest_asyncio.fixture(scope="session")
async def upstream_url() -> AsyncIterator[str]:
    async with served(echo_service("enrollment")) as url:
        yield url


@pytest_asyncio.fixture(scope="session")
async def second_upstream_url() -> AsyncIterator[str]:
    async with served(echo_service("learning")) as url:
        yield url


@pytest_asyncio.fixture(scope="session")
async def not_ready_url() -> AsyncIterator[str]:
    async with served(not_ready_service()) as url:
        yield url


@pytest_asyncio.fixture(scope="session")
async def degraded_url() -> AsyncIterator[str]:
    async with served(degraded_service()) as url:
        yield url


# --- the gateway ------------------------------------------------------------------------------


@pytest.fixture
def make_settings(database_url: str, keypair: tuple[str, str]) -> Callable[..., GatewaySettings]:
    """Gateway settings for this test's database; every upstream down unless overridden."""

    def build(**overrides: Any) -> GatewaySettings:
        values: dict[str, Any] = {
            "database_url": database_url,
            "jwt_private_key": keypair[0],
            "log_json": False,
            "db_pool_size": 3,
            "rate_limit_per_second": 1000.0,
            "rate_limit_burst": 1000,
            "probe_timeout_seconds": 2.0,
            # No broker here; the tests of the event consumer turn it on.
            "run_consumers": False,
            **{f"{name}_url": closed_url() for name in SERVICES},
        }
        values.update(overrides)
        return GatewaySettings.model_validate(values)

    return build


@pytest.fixture
def gateway(make_settings: Callable[..., GatewaySettings]) -> GatewayFactory:
    """`async with gateway(**settings) as client:` the gateway app with its lifespan."""

    @contextlib.asynccontextmanager
    async def run(**overrides: Any) -> AsyncIterator[httpx.AsyncClient]:
        async with app_client(create_app(make_settings(**overrides))) as client:
            yield client

    return run


@pytest_asyncio.fixture
async def engine(database_url: str) -> AsyncIterator[AsyncEngine]:
    engine = make_engine(database_url, pool_size=2)
    yield engine
    await engine.dispose()


@pytest.fixture
def add_account(engine: AsyncEngine) -> Callable[..., Any]:
    """Creates (and commits) an account through the service, as the demo-data loader does."""

    async def create(
        username: str | None = None,
        *,
        password: str = PASSWORD,
        role: str = "school_admin",
        org_path: tuple[str, ...] = ("370000", "370100", "370102", "s-001"),
        name: str = "王校长",
        teacher_id: uuid.UUID | None = None,
        active: bool = True,
    ) -> Account:
        async with make_session_factory(engine)() as session:
            account = await service.create_account(
                session,
                username=username or f"user-{uuid.uuid4().hex[:8]}",
                password=password,
                role=role,
                org_path=org_path,
                name=name,
                teacher_id=teacher_id,
                active=active,
            )
            await session.commit()
            return account

    return create


@pytest.fixture
def session_factory(engine: AsyncEngine) -> Callable[[], AsyncSession]:
    return make_session_factory(engine)


# --- a real enrollment, for the account rules -------------------------------------------------

# (id, parent, level, name, province, city, county): Jinan's Lixia with two schools, Weihai's
# Rongcheng with one. The migrations ship the province, cities and counties already.
ENROLLMENT_ORGS = [
    ("370102-S001", "370102", "school", "历下区实验小学", "370000", "370100", "370102"),
    ("370102-S002", "370102", "school", "历下区第二实验中学", "370000", "370100", "370102"),
    ("371082-S001", "371082", "school", "荣成市第一实验小学", "370000", "371000", "371082"),
]


@pytest.fixture
def serve_enrollment(
    settings_for: Callable[..., Any], engine: AsyncEngine
) -> Callable[..., contextlib.AbstractAsyncContextManager[str]]:
    """`async with serve_enrollment(**settings) as url:` the real enrollment service on this
    test's database (with the schools above), served on a free port."""
    from enrollment.config import Settings as EnrollmentSettings
    from enrollment.main import create_app as enrollment_app
    from enrollment.models import Org

    @contextlib.asynccontextmanager
    async def run(**overrides: Any) -> AsyncIterator[str]:
        async with make_session_factory(engine)() as session, session.begin():
            for oid, parent, level, name, province, city, county in ENROLLMENT_ORGS:
                await session.merge(
                    Org(
                        id=oid,
                        parent_id=parent,
                        level=level,
                        name=name,
                        province_id=province,
                        city_id=city,
                        county_id=county,
                    )
                )
        overrides = {"run_relay": False, "run_consumers": False, **overrides}
        async with served(enrollment_app(settings_for(EnrollmentSettings, **overrides))) as url:
            yield url

    return run
