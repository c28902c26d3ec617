"""Kafka client construction and topic management (aiokafka)."""

from __future__ import annotations

import asyncio
import contextlib
import logging

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
        with contextlib.suppress(TopicAlreadyExistsError):
            await admin.create_topics(
                [
                    NewTopic(
                        name=n,
                        num_partitions=partitions or settings.kafka_partitions,
                        replication_factor=1,
                    )
                    for n in missing
                ]
            )
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
        created = await admin.create_topics(
            [NewTopic(name=n, num_partitions=c, replication_factor=1) for n, c in topics.items()]
        )
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
        _, writer = await asyncio.wait_for(asyncio.open_connection(host, int(port)), timeout)
    except (OSError, TimeoutError, ValueError):
        return False
    writer.close()
    return True
