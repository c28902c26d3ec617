"""Fixtures shared by every test suite: a real PostgreSQL (a fresh database per test, cloned
from a template migrated once per session) and a real Kafka-protocol broker (Tansu, unless
KAFKA_BOOTSTRAP_SERVERS names one). Each test gets its own topic prefix."""

from __future__ import annotations

import asyncio
import contextlib
import os
import uuid
from collections.abc import AsyncIterator, Callable, Iterator
from pathlib import Path
from typing import Any, TypeVar

import pytest
import pytest_asyncio

from yanxiu.devstack.broker import TansuBroker
from yanxiu.devstack.paths import SERVICES, repo_root
from yanxiu.devstack.postgres import create_database, drop_database, ensure_server, with_database
from yanxiu.devstack.redis import RedisServer
from yanxiu.kit.auth import Principal, Role, generate_keypair, issue_token
from yanxiu.kit.db import asyncpg_url
from yanxiu.kit.migrations import upgrade
from yanxiu.kit.pii import generate_key
from yanxiu.kit.settings import KitSettings

S = TypeVar("S", bound=KitSettings)
WORKER = os.environ.get("PYTEST_XDIST_WORKER", "main")
# The suite runs many processes on two cores, where forking a PostgreSQL backend can take longer
# than production's 1 s connect budget. Tests of the outage answer pin their own timeouts.
os.environ.setdefault("DB_CONNECT_TIMEOUT", "5")
os.environ.setdefault("DB_POOL_TIMEOUT", "10")
PII_KEY = generate_key()


def migrated_services() -> list[Path]:
    root = repo_root()
    names = [*SERVICES, "gateway"]
    return [
        root / "services" / n
        for n in names
        if (root / "services" / n / "migrations" / "versions").is_dir()
    ]


@pytest_asyncio.fixture(scope="session")
async def pg_server(tmp_path_factory: pytest.TempPathFactory) -> str:
    url, _how = await ensure_server(Path(os.environ.get("YANXIU_DATA", repo_root() / ".data")))
    return url


@pytest_asyncio.fixture(scope="session")
async def template_db(pg_server: str) -> AsyncIterator[str]:
    # One per test session: two sessions on one server (a developer's and CI's) must not
    # drop each other's template.
    name = f"yanxiu_test_tpl_{WORKER}_{os.getpid()}"
    url = await create_database(pg_server, name, drop_first=True)
    for service_dir in migrated_services():
        await upgrade(service_dir, url)
    yield name
    await drop_database(pg_server, name)


class FreshDatabases:
    """Databases cloned from the template a few ahead of the tests that take them. A clone
    costs PostgreSQL 0.2-0.4 s of copying; made while the test before runs (mostly waiting on
    its apps), it costs the test nothing. Each is handed out once and dropped after its test,
    while the next one runs."""

    AHEAD = 2

    def __init__(self, server: str, template: str) -> None:
        self.server = server
        self.template = template
        self.ready: asyncio.Queue[str] = asyncio.Queue(maxsize=self.AHEAD)
        self.filler: asyncio.Task[None] | None = None
        self.dropping: set[asyncio.Task[None]] = set()

    async def _fill(self) -> None:
        while True:
            name = f"yanxiu_test_{WORKER}_{uuid.uuid4().hex[:10]}"
            await create_database(self.server, name, template=self.template)
            await self.ready.put(name)

    async def take(self) -> str:
        if self.filler is None or self.filler.done():
            # Started on first use, on the loop the tests run on; restarted if it failed
            # (its error then reaches the test that waits, not a later one).
            if self.filler is not None and not self.filler.cancelled():
                self.filler.result()
            self.filler = asyncio.create_task(self._fill(), name="fresh-databases")
        getter = asyncio.ensure_future(self.ready.get())
        await asyncio.wait({getter, self.filler}, return_when=asyncio.FIRST_COMPLETED)
        if not getter.done():
            getter.cancel()
            self.filler.result()  # raises what stopped it
        return getter.result()

    def drop(self, name: str) -> None:
        """Drop a used database behind the next test's back (FORCE ends what still holds it)."""
        task = asyncio.create_task(drop_database(self.server, name))
        self.dropping.add(task)
        task.add_done_callback(self.dropping.discard)

    async def close(self) -> None:
        if self.dropping:
            await asyncio.gather(*self.dropping)
        if self.filler is not None:
            self.filler.cancel()
            with contextlib.suppress(BaseException):
                await self.filler
        while not self.ready.empty():
            await drop_database(self.server, self.ready.get_nowait())


@pytest_asyncio.fixture(scope="session")
async def fresh_databases(pg_server: str, template_db: str) -> AsyncIterator[FreshDatabases]:
    databases = FreshDatabases(pg_server, template_db)
    yield databases
    await databases.close()


@pytest_asyncio.fixture
async def database_url(pg_server: str, fresh_databases: FreshDatabases) -> AsyncIterator[str]:
    """A fresh database with every service's schema, for this test alone."""
    name = await fresh_databases.take()
    yield asyncpg_url(with_database(pg_server, name))
    fresh_databases.drop(name)


@pytest.fixture(scope="session")
def broker() -> Iterator[str]:
    given = os.environ.get("KAFKA_BOOTSTRAP_SERVERS")
    if given:
        yield given
        return
    # Started here, in the main thread: a test session killed outright leaves no broker.
    tansu = TansuBroker(die_with_us=True)
    yield tansu.start()
    tansu.stop()


@pytest.fixture(scope="session")
def redis_url() -> Iterator[str]:
    """A Redis of the test session's own (REDIS_URL names another): started on first use."""
    given = os.environ.get("REDIS_URL")
    if given:
        yield given
        return
    server = RedisServer()
    yield server.start()
    server.stop()


@pytest.fixture(scope="session")
def keypair() -> tuple[str, str]:
    return generate_keypair()


@pytest.fixture
def topic_prefix() -> str:
    return f"t{uuid.uuid4().hex[:8]}."


@pytest.fixture
def settings_for(
    database_url: str, broker: str, keypair: tuple[str, str], topic_prefix: str
) -> Callable[..., Any]:
    """Build a service's Settings pointing at this test's database, broker and topics."""

    def build(cls: type[S], **overrides: Any) -> S:
        values: dict[str, Any] = {
            "database_url": database_url,
            "kafka_bootstrap_servers": broker,
            "kafka_topic_prefix": topic_prefix,
            "jwt_public_key": keypair[1],
            "log_json": False,
            "db_pool_size": 8,
            # Generous: a test machine's cores are all taken while five apps start at once,
            # and a connect that would take 1.2 s there must not fail a fixture.
            "db_connect_timeout": 10.0,
            "pii_key": PII_KEY,
            "kafka_session_timeout_ms": 2000,
            "kafka_fetch_max_wait_ms": 10,
            "kafka_heartbeat_interval_ms": 300,
        }
        values.update(overrides)
        return cls.model_validate(values)

    return build


@pytest.fixture
def token_for(keypair: tuple[str, str]) -> Callable[..., str]:
    """A signed bearer token for a role and org path."""

    def build(
        role: str | Role,
        org_path: list[str] | tuple[str, ...],
        *,
        user_id: str | None = None,
        teacher_id: str | None = None,
    ) -> str:
        principal = Principal(
            user_id=user_id or uuid.uuid4().hex,
            role=Role(role),
            org_path=tuple(org_path),
            name="测试用户",
            teacher_id=teacher_id,
        )
        return issue_token(principal, private_key_pem=keypair[0])

    return build
