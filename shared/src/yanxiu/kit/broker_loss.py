"""Whether the broker still holds what it acknowledged to the relay (issue #13).

A broker can acknowledge a write and later not have it: the embedded Tansu keeps nothing across
a restart (and, restarted, acknowledges writes to topics it no longer has into nothing), a Kafka
cluster can be replaced, a partition truncated by an unclean leader election. The outbox records
where each row was acknowledged (`kafka_partition`, `kafka_offset`), so the relay can compare:

- a topic that is gone, a different cluster id, fewer partitions than rows were written to, or a
  partition whose last acknowledged record is not the row written there (another record, or none
  although the log reaches past it): the broker's log of that topic is not ours (a new one).
  Every retained row of the topic is sent again, on the topic made anew.
- a partition that ends before its last acknowledged record while the record before its end is
  still ours: the same log, cut short. Only the rows from its end on are sent again.

Everything else is as it should be. A record is compared by its bytes (the row's payload, whose
envelope carries the event id), so a log the broker rebuilt from other writes cannot pass for
ours by its offsets alone. The cluster id is remembered for the relay's lifetime only: after a
restart the records themselves tell, which is why the offsets are kept in the outbox and the
cluster id is not."""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy.ext.asyncio import AsyncConnection

from yanxiu.kit.broker_probe import BrokerProbe, BrokerView
from yanxiu.kit.outbox_store import OutboxStore, TopicPartition
from yanxiu.kit.settings import KitSettings


@dataclass
class Loss:
    """What the broker no longer holds, in outbox terms (topics without the prefix)."""

    topics: dict[str, str] = field(default_factory=dict)  # topic → why its log is not ours
    tails: dict[TopicPartition, int] = field(default_factory=dict)  # → first offset lost

    def __bool__(self) -> bool:
        return bool(self.topics or self.tails)


@dataclass
class Finding:
    view: BrokerView
    acknowledged: dict[TopicPartition, int]
    loss: Loss
    absent: list[str]  # topics nothing was published to yet, which the broker lacks


async def find_loss(
    conn: AsyncConnection,
    *,
    store: OutboxStore,
    probe: BrokerProbe,
    settings: KitSettings,
    topics: list[str],
    also: list[str],
    cluster_id: str | None,
) -> Finding:
    """Compare the broker with the outbox. `topics`: the outbox topics to look at besides those
    rows were published to; `also`: topics only to be reported when absent; `cluster_id`: the
    one the broker had when last seen (None: unknown)."""
    acked = await store.acknowledged(conn)
    names = sorted(set(topics) | {t for t, _ in acked})
    others = sorted(set(also) - set(names))
    view = await probe.view([settings.topic(t) for t in [*names, *others]])
    new_cluster = (
        cluster_id is not None and view.cluster_id is not None and view.cluster_id != cluster_id
    )
    loss = Loss()
    absent: list[str] = []
    last: dict[TopicPartition, int] = {}  # the last acknowledged record, which must be ours
    for topic in names:
        name = settings.topic(topic)
        mine = {p: w for (t, p), w in acked.items() if t == topic}
        published = bool(mine) or await store.has_published(conn, topic)
        if name not in view.partitions:
            if published:
                loss.topics[topic] = "the topic is gone"
            else:
                absent.append(topic)
            continue
        if new_cluster and published:
            loss.topics[topic] = f"a new cluster ({cluster_id} → {view.cluster_id})"
            continue
        if any(p >= view.partitions[name] for p in mine):
            loss.topics[topic] = f"{view.partitions[name]} partitions, fewer than written to"
            continue
        last.update({(topic, p): w for p, w in mine.items()})
    intact: set[str] = set()  # topics with a partition shown to hold our records
    lost_from: dict[TopicPartition, int] = {}  # partitions that end before what was acked
    before_end: dict[TopicPartition, int] = {}
    compared = await _compare(conn, store, probe, settings, view, last)
    unread = [(settings.topic(t), p) for (t, p), _, same in compared if same is None]
    # Kafka deletes old records by age (retention): a partition idle for longer than that
    # starts past its last acknowledged record without having lost anything.
    starts = await probe.start_offsets(view, unread) if unread else {}
    for tp, offset, same in compared:
        topic, p = tp
        if same is None and starts.get((settings.topic(topic), p), 0) > offset:
            continue
        # Where the broker says the partition ends only decides between a tail cut off and a
        # new log once the last acknowledged record is missing: Tansu 0.6 under-reports it
        # after batched writes (the last batch's first offset + 1).
        end = view.end_offsets.get((settings.topic(topic), p), 0)
        if same:
            intact.add(topic)
        elif same is False or end > offset:
            # Another record where ours was acknowledged, or none readable inside the log.
            loss.topics.setdefault(topic, f"partition {p} does not hold offset {offset} as sent")
        else:
            lost_from[tp] = end
            if end > 0:
                before_end[tp] = end - 1
    # A partition that ends too early: the same log cut short if the record before its end is
    # ours, else a new one.
    for tp, _offset, same in await _compare(conn, store, probe, settings, view, before_end):
        if same:
            intact.add(tp[0])
        else:
            loss.topics.setdefault(tp[0], f"partition {tp[1]} holds other records")
    for (topic, p), end in lost_from.items():
        if topic in loss.topics:
            continue
        if topic not in intact:  # nothing of the log is ours: a new, emptier one
            loss.topics[topic] = f"partition {p} ends at {end}, below what was acknowledged"
        else:
            loss.tails[(topic, p)] = end
    absent += [t for t in others if settings.topic(t) not in view.partitions]
    return Finding(view=view, acknowledged=acked, loss=loss, absent=absent)


async def _compare(
    conn: AsyncConnection,
    store: OutboxStore,
    probe: BrokerProbe,
    settings: KitSettings,
    view: BrokerView,
    wanted: dict[TopicPartition, int],
) -> list[tuple[TopicPartition, int, bool | None]]:
    """For each (partition, offset): True if the broker holds the row the outbox recorded
    there, False if it holds another record, None if it returns none (past its end, or
    unreadable)."""
    if not wanted:
        return []
    theirs = await probe.values_at(
        view, {(settings.topic(t), p): o for (t, p), o in wanted.items()}
    )
    ours = await store.payloads_at(conn, wanted)
    out: list[tuple[TopicPartition, int, bool | None]] = []
    for (topic, p), offset in wanted.items():
        held = theirs.get((settings.topic(topic), p))
        out.append(((topic, p), offset, None if held is None else held == ours.get((topic, p))))
    return out
