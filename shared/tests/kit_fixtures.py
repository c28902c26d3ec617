"""A throwaway schema with the machinery tables and one effect table, for testing the kit."""

from __future__ import annotations

import contextlib
import uuid
from collections.abc import AsyncIterator, Callable
from datetime import datetime
from typing import TYPE_CHECKING, Any, ClassVar

import httpx
from aiokafka import AIOKafkaProducer
from fastapi import APIRouter
from sqlalchemy import Column, Integer, String, Table, text
from sqlalchemy.ext.asyncio import AsyncEngine
from sqlalchemy.orm import DeclarativeBase

from yanxiu.contracts.envelope import Event
from yanxiu.kit.app import ServiceSpec, create_service_app
from yanxiu.kit.consumer import ConsumerRunner, Subscriber
from yanxiu.kit.db import make_session_factory, service_metadata
from yanxiu.kit.settings import KitSettings
from yanxiu.kit.tables import machinery_tables, outbox_notify_sql
from yanxiu.testing import served

SCHEMA = "kittest"
metadata = service_metadata(SCHEMA)
tables = machinery_tables(metadata)
effects = Table(
    "effects",
    metadata,
    Column("key", String(100), primary_key=True),
    Column("count", Integer, nullable=False),
)


class Base(DeclarativeBase):
    metadata = metadata


class Effect(Base):
    """The kit test schema's effect table, mapped; `count` under another attribute name."""

    __table__ = effects
    __mapper_args__ = {"properties": {"times": effects.c["count"]}}  # noqa: RUF012
    if TYPE_CHECKING:
        key: str
        times: int


@contextlib.asynccontextmanager
async def kittest_client(
    settings_for: Callable[..., KitSettings], *routers: APIRouter, **overrides: Any
) -> AsyncIterator[httpx.AsyncClient]:
    """A kit service of the throwaway schema with these routes (no relay, no consumers unless
    the overrides say so), served on a real port."""
    settings = settings_for(
        KitSettings,
        **{"service_name": "kittest", "run_relay": False, "run_consumers": False, **overrides},
    )
    spec = ServiceSpec(
        name="kittest", metadata=metadata, routers=list(routers), settings_factory=lambda: settings
    )
    async with (
        served(create_service_app(spec, settings)) as url,
        httpx.AsyncClient(base_url=url) as http,
    ):
        yield http


class Pinged(Event):
    """type: kittest.pinged v1, key: subject — a test event."""

    TYPE: ClassVar[str] = "kittest.pinged"
    TOPIC: ClassVar[str] = "kittest.events.v1"
    KEY_FIELD: ClassVar[str] = "subject"

    subject: str
    seq: int
    at: datetime | None = None


class PingedV2(Pinged):
    VERSION: ClassVar[int] = 2


async def create_schema(engine: AsyncEngine) -> None:
    async with engine.begin() as conn:
        await conn.execute(text(f"CREATE SCHEMA IF NOT EXISTS {SCHEMA}"))
        await conn.run_sync(metadata.create_all)
        for stmt in outbox_notify_sql(SCHEMA):
            await conn.execute(text(stmt))


def new_subject() -> str:
    return uuid.uuid4().hex[:8]


async def assert_problems(client: httpx.AsyncClient, refusals: list[tuple[str, str, int]]) -> None:
    """Each (method, url) is refused with its status as problem+json."""
    for method, url, status in refusals:
        r = await client.request(method, url)
        assert r.status_code == status, (method, url)
        assert r.headers["content-type"].startswith("application/problem+json"), (method, url)


DLQ = "kittest.dlq.v1"


def runner_of(
    sub: Subscriber,
    engine: AsyncEngine,
    settings: KitSettings,
    producer: AIOKafkaProducer,
    **options: Any,
) -> ConsumerRunner:
    """A runner of `sub` on the kit test's schema, parking in its dead-letter topic; `options`
    are the runner's own (retries, backoff)."""
    return ConsumerRunner(
        subscriber=sub,
        settings=settings,
        session_factory=make_session_factory(engine),
        inbox=tables["inbox"],
        dlq_producer=producer,
        dlq_topic=DLQ,
        **options,
    )
