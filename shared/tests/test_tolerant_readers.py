"""Tolerant readers, strict writers (docs/events.md): a consumer still on today's model handles
an event from a newer producer that added fields (in `data`, in a nested model, in the
envelope) instead of dead-lettering it; a producer cannot build an event with a field its
model does not declare; the published schemas say objects are open."""

from __future__ import annotations

import asyncio
import json
import uuid
from collections.abc import AsyncIterator, Callable
from datetime import UTC, datetime
from typing import Any

import pytest
import pytest_asyncio
from aiokafka import AIOKafkaProducer
from pydantic import ValidationError
from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from shared.tests.kit_fixtures import effects, runner_of
from yanxiu.contracts.enrollment import TeacherRegistered
from yanxiu.contracts.envelope import Envelope, OrgPath
from yanxiu.contracts.registry import all_events
from yanxiu.contracts.schemas import (
    SNAPSHOT_DIR,
    asyncapi_document,
    closed_objects,
    event_schema,
    incompatibilities,
)
from yanxiu.devstack.paths import repo_root
from yanxiu.kit.broker import ensure_topics, make_producer
from yanxiu.kit.consumer import Subscriber
from yanxiu.kit.settings import KitSettings
from yanxiu.testing import eventually, read_topic

DLQ = "kittest.dlq.v1"
ORG = {"province_id": "370000", "city_id": "370100", "county_id": "370102", "school_id": "s1"}


def registered(**overrides: Any) -> dict[str, Any]:
    """Today's TeacherRegistered as keyword arguments."""
    values: dict[str, Any] = {
        "registration_id": uuid.uuid4(),
        "project_id": uuid.uuid4(),
        "project_year": 2025,
        "teacher_id": uuid.uuid4(),
        "teacher_name": "李老师",
        "stage": "primary",
        "subject": "数学",
        "is_rural": False,
        "org": OrgPath(**ORG),
        "registered_at": datetime.now(UTC),
    }
    values.update(overrides)
    return values


def newer_message(*, general_path: bool = False) -> tuple[str, bytes]:
    """A TeacherRegistered v1 as a newer producer would send it: an added field in `data`, in
    the nested org path and in the envelope. `general_path` puts the envelope's new field
    between `type` and `version`, past the runner's one-pass decoding."""
    event = TeacherRegistered(**registered())
    env = event.envelope(producer="enrollment", trace_id="t-newer").model_dump(mode="json")
    env["data"]["training_hours_planned"] = 72
    env["data"]["org"]["district_code"] = "370102-A"
    env["data"]["org"]["names"] = {"city": "济南市"}
    if general_path:
        env = {"id": env.pop("id"), "type": env.pop("type"), "schema_url": "x", **env}
    else:
        env["schema_url"] = "https://yanxiu.example/schemas/teacher_registered.v1.json"
    return str(event.teacher_id), json.dumps(env, ensure_ascii=False).encode()


# Producers stay strict.


def test_producer_cannot_build_an_event_with_a_field_its_model_does_not_declare() -> None:
    with pytest.raises(ValidationError, match="Extra inputs are not permitted"):
        TeacherRegistered(**registered(training_hours_planned=72))


def test_producer_cannot_build_a_nested_org_path_with_an_unknown_field() -> None:
    with pytest.raises(ValidationError):
        OrgPath(**ORG, district_code="x")  # type: ignore[call-arg]
    with pytest.raises(ValidationError):
        TeacherRegistered(**registered(org={**ORG, "district_code": "x"}))


def test_producer_cannot_build_an_envelope_with_an_unknown_field() -> None:
    env = TeacherRegistered(**registered()).envelope(producer="p", trace_id="t")
    with pytest.raises(ValidationError):
        Envelope(**env.model_dump(), schema_url="x")
    with pytest.raises(ValidationError):  # validating, as a producer would, is strict too
        Envelope.model_validate({**env.model_dump(), "schema_url": "x"})


# Readers are tolerant.


def test_reader_ignores_fields_added_in_the_envelope_data_and_nested_models() -> None:
    teacher_id, raw = newer_message()
    env = Envelope.read(raw)
    event = TeacherRegistered.read(env.data)
    assert str(event.teacher_id) == teacher_id
    assert event.org == OrgPath(**ORG)


def test_reader_still_refuses_an_event_missing_a_field_it_needs() -> None:
    _, raw = newer_message()
    env = Envelope.read(raw)
    data = {k: v for k, v in env.data.items() if k != "subject"}
    with pytest.raises(ValidationError):
        TeacherRegistered.read(data)


# An old consumer, the kit's runner with today's model, fed newer events.


@pytest.fixture
def settings(settings_for: Callable[..., KitSettings]) -> KitSettings:
    return settings_for(KitSettings, service_name="kittest")


@pytest_asyncio.fixture
async def producer(settings: KitSettings) -> AsyncIterator[AIOKafkaProducer]:
    topics = [settings.topic(TeacherRegistered.TOPIC), settings.topic(DLQ)]
    await ensure_topics(settings, topics, partitions=1)
    p = make_producer(settings)
    await p.start()
    yield p
    await p.stop()


def old_consumer() -> Subscriber:
    sub = Subscriber(group=f"kittest.{uuid.uuid4().hex[:6]}", topics=[TeacherRegistered.TOPIC])

    @sub.handler
    async def on_registered(session: AsyncSession, event: TeacherRegistered) -> None:
        await session.execute(insert(effects).values(key=str(event.teacher_id), count=1))

    return sub


async def handled(engine: AsyncEngine, keys: set[str]) -> bool:
    async with engine.connect() as conn:
        found = set((await conn.execute(select(effects.c.key))).scalars().all())
    return keys <= found


async def test_old_consumer_handles_a_newer_event_with_added_fields_instead_of_dead_lettering(
    engine: AsyncEngine, settings: KitSettings, producer: AIOKafkaProducer, broker: str
) -> None:
    runner = runner_of(old_consumer(), engine, settings, producer)
    task = asyncio.create_task(runner.run())
    topic = settings.topic(TeacherRegistered.TOPIC)
    try:
        await runner.started.wait()
        keys: set[str] = set()
        # One at a time (each its own poll), then a burst (one batch, one transaction).
        for general in (False, True):
            key, raw = newer_message(general_path=general)
            keys.add(key)
            await producer.send_and_wait(topic, raw, key=key.encode())
            await eventually(lambda: handled(engine, keys))
        for i in range(20):
            key, raw = newer_message(general_path=bool(i % 2))
            keys.add(key)
            await producer.send(topic, raw, key=key.encode())
        await producer.flush()
        assert await eventually(lambda: handled(engine, keys), timeout=30)
        assert await read_topic(broker, settings.topic(DLQ), expect=1, timeout=2) == []
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)


# The published schemas agree with the rule.


@pytest.mark.parametrize("cls", all_events(), ids=lambda c: c.TYPE)
def test_published_schema_of_every_event_leaves_objects_open_to_added_fields(cls: type) -> None:
    path = SNAPSHOT_DIR / f"{cls.TYPE}.v{cls.VERSION}.json"
    assert closed_objects(json.loads(path.read_text())) == []
    assert closed_objects(event_schema(cls)) == []


def test_published_asyncapi_document_leaves_objects_open() -> None:
    assert closed_objects(asyncapi_document()) == []
    doc = json.loads((repo_root() / "docs" / "asyncapi.json").read_text())
    assert closed_objects(doc) == []


def test_closing_an_object_to_unknown_fields_is_incompatible() -> None:
    old = {"properties": {"a": {"type": "string"}}, "required": ["a"]}
    closed = {**old, "additionalProperties": False}
    assert incompatibilities(old, closed) == ["(root): closed to unknown fields"]
    assert incompatibilities(closed, old) == []


def test_a_new_enum_value_is_incompatible_for_older_readers() -> None:
    old = {"properties": {"stage": {"type": "string", "enum": ["primary"]}}}
    new = {"properties": {"stage": {"type": "string", "enum": ["primary", "vocational"]}}}
    assert incompatibilities(old, new) != []
