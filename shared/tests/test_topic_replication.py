"""Topics are created with the partitions, replication factor and min ISR the settings give.

The embedded broker (Tansu) keeps one copy whatever it is asked, so these tests check what the
service asks for: the creation requests `yanxiu.kit.broker.new_topics` builds, and that both
ways a service creates topics (`ensure_topics` at start-up, `recreate_topics` after a broker
loss) send exactly those, through a fake admin client."""

from __future__ import annotations

from typing import Any, ClassVar

import pytest
from aiokafka.admin import NewTopic
from pydantic import ValidationError

from yanxiu.kit import broker
from yanxiu.kit.settings import KitSettings


class FakeAdmin:
    """Stands in for AIOKafkaAdminClient: knows `existing` topics, records creations."""

    existing: ClassVar[tuple[str, ...]] = ()
    created: ClassVar[list[NewTopic]] = []

    def __init__(self, **_kwargs: Any) -> None:
        pass

    async def start(self) -> None:
        pass

    async def close(self) -> None:
        pass

    async def list_topics(self) -> list[str]:
        return list(self.existing)

    async def delete_topics(self, names: list[str]) -> object:
        return type("Deleted", (), {"topic_error_codes": [(n, 0) for n in names]})()

    async def create_topics(self, topics: list[NewTopic]) -> object:
        FakeAdmin.created.extend(topics)
        return type("Created", (), {"topic_errors": [(t.name, 0, None) for t in topics]})()


@pytest.fixture
def admin(monkeypatch: pytest.MonkeyPatch) -> type[FakeAdmin]:
    FakeAdmin.existing = ()
    FakeAdmin.created = []
    monkeypatch.setattr(broker, "AIOKafkaAdminClient", FakeAdmin)
    return FakeAdmin


def production(monkeypatch: pytest.MonkeyPatch) -> KitSettings:
    """The settings deploy/k8s/overlays/production gives every process."""
    monkeypatch.setenv("KAFKA_PARTITIONS", "24")
    monkeypatch.setenv("KAFKA_REPLICATION_FACTOR", "3")
    monkeypatch.setenv("KAFKA_MIN_INSYNC_REPLICAS", "2")
    return KitSettings()


def test_development_topics_keep_one_replica_and_the_brokers_min_isr() -> None:
    settings = KitSettings()
    (topic,) = broker.new_topics(settings, {"enrollment.events.v1": 6})
    assert (topic.name, topic.num_partitions, topic.replication_factor) == (
        "enrollment.events.v1",
        6,
        1,
    )
    assert topic.topic_configs == {}


def test_production_topics_are_replicated_three_times_with_min_isr_two(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    settings = production(monkeypatch)
    topics = broker.new_topics(settings, {"learning.events.v1": 24, "learning.dlq.v1": 1})
    assert [(t.name, t.num_partitions, t.replication_factor) for t in topics] == [
        ("learning.events.v1", 24, 3),
        ("learning.dlq.v1", 1, 3),
    ]
    assert all(t.topic_configs == {"min.insync.replicas": "2"} for t in topics)


async def test_ensure_topics_creates_the_missing_ones_with_the_configured_replication(
    monkeypatch: pytest.MonkeyPatch, admin: type[FakeAdmin]
) -> None:
    settings = production(monkeypatch)
    admin.existing = ("credits.events.v1",)
    await broker.ensure_topics(settings, ["credits.events.v1", "credits.dlq.v1"])
    assert [(t.name, t.num_partitions, t.replication_factor) for t in admin.created] == [
        ("credits.dlq.v1", 24, 3)
    ]
    assert admin.created[0].topic_configs == {"min.insync.replicas": "2"}


async def test_ensure_topics_given_partitions_keeps_the_configured_replication(
    monkeypatch: pytest.MonkeyPatch, admin: type[FakeAdmin]
) -> None:
    await broker.ensure_topics(production(monkeypatch), ["t.v1"], partitions=2)
    assert [(t.num_partitions, t.replication_factor) for t in admin.created] == [(2, 3)]


async def test_recreated_topics_keep_the_configured_replication(
    monkeypatch: pytest.MonkeyPatch, admin: type[FakeAdmin]
) -> None:
    admin.existing = ("lessons.events.v1",)
    await broker.recreate_topics(production(monkeypatch), {"lessons.events.v1": 12})
    (topic,) = admin.created
    assert (topic.num_partitions, topic.replication_factor) == (12, 3)
    assert topic.topic_configs == {"min.insync.replicas": "2"}


def test_min_isr_above_the_replication_factor_is_refused(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("KAFKA_REPLICATION_FACTOR", "2")
    monkeypatch.setenv("KAFKA_MIN_INSYNC_REPLICAS", "3")
    with pytest.raises(ValidationError, match="KAFKA_MIN_INSYNC_REPLICAS"):
        KitSettings()
