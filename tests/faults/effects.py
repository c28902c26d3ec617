"""Counting effects across services after a fault: what the services hold, read straight from
their schemas, and where the broker's consumer groups stand."""

from __future__ import annotations

import asyncio
import importlib
import time
import uuid
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import asyncpg
import httpx
from aiokafka import AIOKafkaConsumer, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient

from tests.faults.live import LiveStack
from tests.province.world import World, new_id_number
from yanxiu.contracts.enrollment import ENROLLMENT_TOPIC
from yanxiu.kit.consumer import Subscriber
from yanxiu.kit.db import plain_url

# Who consumes enrollment's topic: (service whose inbox and DLQ it uses, subscriber).
CONSUMER_MODULES = {
    "learning": ("learning.consumers", "enrollment_events"),
    "lessons": ("lessons.allocation.consumers", "enrollment_events"),
    "credits": ("credits.ledger.consumers", "upstream_events"),
    "gateway": ("gateway.consumers", "teachers"),
}


def enrollment_consumers() -> dict[str, Subscriber]:
    found = {}
    for service, (module, name) in CONSUMER_MODULES.items():
        found[service] = getattr(importlib.import_module(module), name)
    return found


@dataclass
class Stream:
    """A client writing as an admin would all through a fault: a teacher collected, verified
    and registered, again and again. What was acknowledged is kept; what failed is counted."""

    world: World
    teachers: list[str] = field(default_factory=list)
    registered: list[str] = field(default_factory=list)
    answers: Counter[int] = field(default_factory=Counter)
    refusals: list[httpx.Response] = field(default_factory=list)

    async def _step(self, actor: str, method: str, path: str, **kw: Any) -> Any:
        try:
            answer = await self.world.client.request(
                method, path, headers=self.world.auth(actor), timeout=10, **kw
            )
        except httpx.HTTPError:
            self.answers[0] += 1
            return None
        self.answers[answer.status_code] += 1
        if answer.status_code >= 400:
            self.refusals.append(answer)
            return None
        return answer.json() if answer.content else {}

    async def run(self, stop: asyncio.Event, pause: float = 0.02) -> None:
        project = self.world.ids["project"]
        while not stop.is_set():
            made = await self._step(
                "school_admin",
                "POST",
                "/api/v1/enrollment/teachers",
                json={
                    "name": "流水教师",
                    "id_number": new_id_number(),
                    "school_id": self.world.schools["A1"],
                    "stage": "primary",
                    "subject": "语文",
                    "is_rural": False,
                },
            )
            if made is None:
                await asyncio.sleep(0.2)
                continue
            self.teachers.append(made["id"])
            path = f"/api/v1/enrollment/teachers/{made['id']}/verify"
            if await self._step("county_admin", "POST", path) is None:
                continue
            reg = await self._step(
                "school_admin",
                "POST",
                f"/api/v1/enrollment/projects/{project}/registrations",
                json={"teacher_id": made["id"], "subject": "语文"},
            )
            if reg is not None:
                self.registered.append(made["id"])
            await asyncio.sleep(pause)


async def during(stream: Stream, seconds: float, fault: Callable[[], Any]) -> None:
    """Runs the stream, applies the fault a moment in, keeps writing `seconds` in all."""
    stop = asyncio.Event()
    writer = asyncio.create_task(stream.run(stop))
    await asyncio.sleep(min(1.0, seconds / 3))
    result = fault()
    if asyncio.iscoroutine(result):
        await result
    await asyncio.sleep(seconds)
    stop.set()
    await writer


@dataclass
class Holdings:
    teachers: set[str]
    registered: set[str]
    plans: set[str]
    reviewers: set[str]
    credits_teachers: set[str]
    inbox: dict[str, set[str]]
    outbox: dict[str, set[str]]


async def holdings(database_url: str, project: str) -> Holdings:
    conn = await asyncpg.connect(plain_url(database_url))
    try:

        async def ids(sql: str, *args: Any) -> set[str]:
            return {str(r[0]) for r in await conn.fetch(sql, *args)}

        pid = uuid.UUID(project)
        inbox, outbox = {}, {}
        for service, sub in enrollment_consumers().items():
            types = sorted(t for t in sub.known_types() if t.startswith("enrollment."))
            inbox[service] = await ids(
                f"SELECT event_id FROM {service}.inbox WHERE consumer = $1"
                " AND event_type = ANY($2)",
                sub.group,
                types,
            )
            outbox[service] = await ids(
                "SELECT event_id FROM enrollment.outbox WHERE event_type = ANY($1)", types
            )
        return Holdings(
            teachers=await ids("SELECT id FROM enrollment.teachers"),
            registered=await ids(
                "SELECT teacher_id FROM enrollment.registrations WHERE project_id = $1", pid
            ),
            plans=await ids(
                "SELECT teacher_id FROM learning.plans WHERE project_id = $1 AND status = 'active'",
                pid,
            ),
            reviewers=await ids(
                "SELECT teacher_id FROM lessons.reviewers WHERE project_id = $1", pid
            ),
            credits_teachers=await ids("SELECT teacher_id FROM credits.teachers"),
            inbox=inbox,
            outbox=outbox,
        )
    finally:
        await conn.close()


def disagreements(held: Holdings, stream: Stream) -> list[str]:
    """What is wrong now; empty when every service agrees with enrollment."""
    wrong = []
    lost = set(stream.teachers) - held.teachers
    if lost:
        wrong.append(f"{len(lost)} acknowledged teachers missing")
    lost = set(stream.registered) - held.registered
    if lost:
        wrong.append(f"{len(lost)} acknowledged registrations missing")
    for name, got in (("learning plans", held.plans), ("lessons reviewers", held.reviewers)):
        if got != held.registered:
            wrong.append(
                f"{name}: {len(held.registered - got)} missing, {len(got - held.registered)} extra"
            )
    if held.credits_teachers != held.teachers:
        missing = len(held.teachers - held.credits_teachers)
        wrong.append(f"credits teachers: {missing} missing")
    for service, events in held.outbox.items():
        if held.inbox[service] != events:
            wrong.append(
                f"{service} inbox: {len(events - held.inbox[service])} of {len(events)} "
                f"events not processed, {len(held.inbox[service] - events)} unknown"
            )
    return wrong


async def partitions(admin: AIOKafkaAdminClient, topic: str) -> list[TopicPartition]:
    described = await admin.describe_topics([topic])
    return [
        TopicPartition(topic, p["partition"])
        for t in described
        if t.get("error_code", 0) == 0
        for p in t.get("partitions", [])
    ]


async def lag(bootstrap: str, prefix: str) -> dict[str, int]:
    """Messages each enrollment consumer group has yet to commit past, by group (read with a
    client of the group that only asks for its committed offsets)."""
    topic = f"{prefix}{ENROLLMENT_TOPIC}"
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap)
    await admin.start()
    try:
        parts = await partitions(admin, topic)
    finally:
        await admin.close()
    out = {}
    for sub in enrollment_consumers().values():
        probe = AIOKafkaConsumer(
            bootstrap_servers=bootstrap,
            group_id=f"{prefix}{sub.group}",
            enable_auto_commit=False,
        )
        await probe.start()
        try:
            ends = await probe.end_offsets(parts)
            behind = 0
            for tp in parts:
                behind += max(0, ends[tp] - ((await probe.committed(tp)) or 0))
            out[sub.group] = behind
        finally:
            await probe.stop()
    return out


async def dead_letters(bootstrap: str, prefix: str) -> dict[str, list[bytes]]:
    """Every message parked on each consumer service's DLQ."""
    out: dict[str, list[bytes]] = {}
    reader = AIOKafkaConsumer(
        bootstrap_servers=bootstrap, group_id=None, auto_offset_reset="earliest"
    )
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap)
    await reader.start()
    await admin.start()
    try:
        for service in CONSUMER_MODULES:
            tps = await partitions(admin, f"{prefix}{service}.dlq.v1")
            if not tps:
                out[service] = []
                continue
            reader.assign(tps)
            await reader.seek_to_beginning(*tps)
            ends = await reader.end_offsets(tps)
            got: list[bytes] = []
            deadline = time.monotonic() + 10
            while time.monotonic() < deadline:
                positions = [await reader.position(tp) for tp in tps]
                if all(pos >= ends[tp] for pos, tp in zip(positions, tps, strict=True)):
                    break
                batch = await reader.getmany(timeout_ms=200)
                for records in batch.values():
                    got.extend(r.value or b"" for r in records)
            out[service] = got
    finally:
        await reader.stop()
        await admin.close()
    return out


async def settled(live: LiveStack, stream: Stream, timeout: float = 120.0) -> None:
    """Waits until every service agrees with enrollment and no consumer lags; fails with what
    still disagrees."""
    prefix = live.env["KAFKA_TOPIC_PREFIX"]
    deadline = time.monotonic() + timeout
    wrong: list[str] = []
    while time.monotonic() < deadline:
        held = await holdings(live.database_url, stream.world.ids["project"])
        wrong = disagreements(held, stream)
        if not wrong:
            behind = await lag(live.broker.bootstrap, prefix)
            wrong = [f"{group} lags by {n}" for group, n in behind.items() if n]
            if not wrong:
                return
        await asyncio.sleep(1.0)
    raise AssertionError("not settled:\n" + "\n".join(wrong))
