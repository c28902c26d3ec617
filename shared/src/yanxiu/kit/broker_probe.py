"""What the broker holds, asked without changing it: the relay's view for checking that the
broker still has what it acknowledged (yanxiu.kit.broker_loss).

Raw requests on a client of its own rather than a consumer or the admin client: their metadata
requests let the broker create a missing topic (Kafka's `auto.create.topics.enable`, always on in
Tansu, with a partition count of its own), which would hide the very loss looked for."""

from __future__ import annotations

import asyncio
from collections import defaultdict
from dataclasses import dataclass, field

from aiokafka.client import AIOKafkaClient
from aiokafka.errors import KafkaError, UnknownTopicOrPartitionError, for_code
from aiokafka.protocol.fetch import FetchRequest
from aiokafka.protocol.metadata import MetadataRequest
from aiokafka.protocol.offset import OffsetRequest
from aiokafka.record.memory_records import MemoryRecords

from yanxiu.kit.settings import KitSettings

TP = tuple[str, int]  # (topic as the broker names it, partition)
_LATEST = -1
_EARLIEST = -2
_READ_UNCOMMITTED = 0
_FETCH_BYTES = 1024 * 1024
# Tansu answers a fetch that may not wait with nothing at all; Kafka answers as soon as it has
# the data, so this costs only Tansu the wait.
_FETCH_WAIT_MS = 50


class BrokerNotReady(KafkaError):
    """The broker answered, but a topic or partition is between states (being created, no
    leader yet): nothing can be concluded from it this time."""

    retriable = True


@dataclass(frozen=True)
class BrokerView:
    cluster_id: str | None
    partitions: dict[str, int]  # topics that exist → their partition count
    end_offsets: dict[TP, int]  # the offset the next record of each partition will get
    leaders: dict[TP, int] = field(default_factory=dict, repr=False)


class BrokerProbe:
    def __init__(self, settings: KitSettings, *, timeout: float = 5.0) -> None:
        self.settings = settings
        self.timeout = timeout
        self._client: AIOKafkaClient | None = None

    async def _ready(self) -> AIOKafkaClient:
        if self._client is None:
            client = AIOKafkaClient(
                bootstrap_servers=self.settings.kafka_bootstrap_servers,
                client_id=f"{self.settings.service_name}-relay-probe",
                request_timeout_ms=int(self.timeout * 1000),
            )
            try:
                async with asyncio.timeout(self.timeout):
                    await client.bootstrap()
            except BaseException:
                await client.close()
                raise
            self._client = client
        return self._client

    async def close(self) -> None:
        if self._client is not None:
            client, self._client = self._client, None
            await client.close()

    async def _send(self, node: int | None, request: object) -> object:
        client = await self._ready()
        try:
            async with asyncio.timeout(self.timeout):
                return await client.send(
                    client.get_random_node() if node is None else node, request
                )
        except BaseException:
            # A client that lost its broker may keep stale connections: start afresh next time.
            await self.close()
            raise

    async def view(self, topics: list[str]) -> BrokerView:
        """The cluster id, which of `topics` exist with how many partitions, and where each of
        their partitions ends. Topics that do not exist stay so."""
        meta = await self._send(
            None, MetadataRequest(list(topics), allow_auto_topic_creation=False)
        )
        partitions: dict[str, int] = {}
        leaders: dict[TP, int] = {}
        for error_code, topic, _internal, parts in meta.topics:  # type: ignore[attr-defined]
            error = for_code(error_code)
            if error is UnknownTopicOrPartitionError:
                continue
            if error_code:
                raise BrokerNotReady(f"topic {topic}: {error.__name__}")
            partitions[topic] = len(parts)
            for p_error, partition, leader, *_ in parts:
                if p_error or leader < 0:
                    raise BrokerNotReady(f"{topic}[{partition}] has no leader")
                leaders[(topic, partition)] = leader
        return BrokerView(
            cluster_id=getattr(meta, "cluster_id", None),
            partitions=partitions,
            end_offsets=await self._list_offsets(leaders),
            leaders=leaders,
        )

    async def start_offsets(self, view: BrokerView, partitions: list[TP]) -> dict[TP, int]:
        """Where each partition's log starts now (past what retention deleted)."""
        return await self._list_offsets({tp: view.leaders[tp] for tp in partitions}, _EARLIEST)

    async def _list_offsets(self, leaders: dict[TP, int], which: int = _LATEST) -> dict[TP, int]:
        by_node: dict[int, dict[str, list[tuple[int, int]]]] = defaultdict(
            lambda: defaultdict(list)
        )
        for (topic, partition), node in leaders.items():
            by_node[node][topic].append((partition, which))
        ends: dict[TP, int] = {}
        for node, topics in by_node.items():
            response = await self._send(
                node, OffsetRequest(-1, _READ_UNCOMMITTED, list(topics.items()))
            )
            for topic, parts in response.topics:  # type: ignore[attr-defined]
                for partition, error_code, *info in parts:
                    if error_code:
                        raise BrokerNotReady(
                            f"{topic}[{partition}]: {for_code(error_code).__name__}"
                        )
                    # v0 answers a list of offsets, later versions (timestamp, offset).
                    offset = (info[0] or [0])[0] if response.API_VERSION == 0 else info[1]  # type: ignore[attr-defined]
                    ends[(topic, partition)] = int(offset)
        return ends

    async def values_at(self, view: BrokerView, wanted: dict[TP, int]) -> dict[TP, bytes | None]:
        """The value of the record at each (partition, offset), or None where the broker does not
        return one (gone, or held but unreadable: a restarted Tansu can acknowledge writes to a
        topic it has not created again and then serve nothing from it)."""
        by_node: dict[int, dict[str, list[tuple[int, int, int]]]] = defaultdict(
            lambda: defaultdict(list)
        )
        for tp, offset in wanted.items():
            by_node[view.leaders[tp]][tp[0]].append((tp[1], offset, _FETCH_BYTES))
        found: dict[TP, bytes | None] = dict.fromkeys(wanted)
        for node, topics in by_node.items():
            response = await self._send(
                node,
                FetchRequest(
                    _FETCH_WAIT_MS, 1, _FETCH_BYTES * 4, _READ_UNCOMMITTED, list(topics.items())
                ),
            )
            for topic, parts in response.topics:  # type: ignore[attr-defined]
                for partition, error_code, _highwater, *data in parts:
                    tp = (topic, partition)
                    if error_code or tp not in wanted:
                        continue
                    found[tp] = _value_at(MemoryRecords(data[-1]), wanted[tp])
        return found


def _value_at(records: MemoryRecords, offset: int) -> bytes | None:
    # A fetch answers whole record batches: the one holding `offset` may start before it.
    while records.has_next():
        batch = records.next_batch()
        if batch is None:
            break
        for record in batch:
            if record.offset == offset:
                return bytes(record.value) if record.value is not None else b""
            if record.offset > offset:
                return None
    return None
