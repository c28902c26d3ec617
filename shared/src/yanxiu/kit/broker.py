"""Kafka client construction and topic management (aiokafka)."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Mapping

from aiokafka import AIOKafkaProducer
from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from aiokafka.errors import TopicAlreadyExistsError, UnknownTopicOrPartitionError, for_code

from yanxiu.kit.settings import KitSettings

log = logging.getLogger(__name__)


def make_producer(
    settings: KitSettings, *, linger_ms: int = 0, max_batch_size: int = 16_384
) -> AIOKafkaProducer:
    """The relay's producer. A bulk loader (the benchmarks) may ask for larger batches; the
    relay keeps aiokafka's 16 KiB: with 512 KiB batches, a relay killed in the middle of a
    send lost the tail of a partition on Tansu after the restart
    (shared/tests/test_outbox_relay.py, 2 runs in 3)."""
    return AIOKafkaProducer(
        bootstrap_servers=settings.kafka_bootstrap_servers,
        acks="all",
        enable_idempotence=settings.kafka_enable_idempotence,
        linger_ms=linger_ms,
        max_batch_size=max_batch_size,
        request_timeout_ms=10_000,
        client_id=f"{settings.service_name}-producer",
    )


def new_topics(settings: KitSettings, partitions: Mapping[str, int]) -> list[NewTopic]:
    """The creation requests of the topics named (already prefixed), each with its partition
    count and the replication the settings ask for: KAFKA_REPLICATION_FACTOR, and, when set,
    KAFKA_MIN_INSYNC_REPLICAS as the topic's `min.insync.replicas` (the producer sends with
    `acks="all"`, so a write is acknowledged only once that many replicas have it)."""
    configs: dict[str, str] = {}
    if settings.kafka_min_insync_replicas is not None:
        configs["min.insync.replicas"] = str(settings.kafka_min_insync_replicas)
    return [
        NewTopic(
            name=name,
            num_partitions=count,
            replication_factor=settings.kafka_replication_factor,
            topic_configs=dict(configs),
        )
        for name, count in partitions.items()
    ]


async def ensure_topics(
    settings: KitSettings, names: list[str], partitions: int | None = None
) -> None:
    """Create topics (already prefixed) with an explicit partition count; existing ones stay."""
    admin = AIOKafkaAdminClient(
        bootstrap_servers=settings.kafka_bootstrap_servers,
        client_id=f"{settings.service_name}-admin",
    )
    await admin.start()
    try:
        existing = set(await admin.list_topics())
        missing = [n for n in dict.fromkeys(names) if n not in existing]
        if not missing:
            return
        count = partitions or settings.kafka_partitions
        with contextlib.suppress(TopicAlreadyExistsError):
            await admin.create_topics(new_topics(settings, dict.fromkeys(missing, count)))
    finally:
        await admin.close()


async def recreate_topics(settings: KitSettings, topics: dict[str, int]) -> None:
    """Replace topics (already prefixed) with empty ones of the given partition counts: for a
    topic whose log the broker lost and rebuilt from other writes, or holds unreadable (a
    restarted Tansu), or auto-created with its own partition count. Only for topics whose
    every record the caller sends again (yanxiu.kit.relay)."""
    admin = AIOKafkaAdminClient(
        bootstrap_servers=settings.kafka_bootstrap_servers,
        client_id=f"{settings.service_name}-admin",
    )
    await admin.start()
    try:
        existing = set(await admin.list_topics())
        doomed = [n for n in topics if n in existing]
        if doomed:
            _raise_errors(await admin.delete_topics(doomed), UnknownTopicOrPartitionError)
        # A client asking for the topic's metadata in between may have had the broker create
        # it again already (with the broker's partition count): the relay's next check sees
        # whether what it holds is right.
        created = await admin.create_topics(new_topics(settings, topics))
        _raise_errors(created, TopicAlreadyExistsError)
    finally:
        await admin.close()


def _raise_errors(response: object, harmless: type[Exception]) -> None:
    """The admin client returns per-topic error codes rather than raising them."""
    for topic, code, *_ in getattr(response, "topic_errors", None) or getattr(
        response, "topic_error_codes", []
    ):
        error = for_code(code)
        if code and error is not harmless:
            raise error(f"topic {topic}")


async def broker_reachable(settings: KitSettings, timeout: float = 2.0) -> bool:
    host, _, port = settings.kafka_bootstrap_servers.split(",")[0].rpartition(":")
    try:
        async with asyncio.timeout(timeout):
            _, writer = await asyncio.open_connection(host, int(port))
    except (OSError, TimeoutError, ValueError):
        return False
    writer.close()
    return True
