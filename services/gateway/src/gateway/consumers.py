"""The gateway's consumer of enrollment's events: a teacher who moves or leaves takes their
accounts along (new school's org path, or disabled), and their sessions end. Runs with the
kit's ConsumerRunner (inbox `gateway.inbox`, dead letters on `gateway.dlq.v1`), started in the
gateway's lifespan when RUN_CONSUMERS is on."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from aiokafka import AIOKafkaProducer
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from gateway.accounts import service as accounts
from gateway.config import GatewaySettings
from gateway.models import inbox
from yanxiu.contracts.enrollment import ENROLLMENT_TOPIC, TeacherDeparted, TeacherTransferred
from yanxiu.kit.broker import ensure_topics, make_producer
from yanxiu.kit.consumer import ConsumerRunner, Subscriber

log = logging.getLogger(__name__)

DLQ_TOPIC = "gateway.dlq.v1"
STOP_TIMEOUT = 10.0

teachers = Subscriber(group="gateway.accounts", topics=[ENROLLMENT_TOPIC])


@teachers.handler
async def on_teacher_transferred(session: AsyncSession, event: TeacherTransferred) -> None:
    await accounts.follow_transfer(
        session,
        teacher_id=event.teacher_id,
        to_org=event.to_org.as_list(),
        reactivate=event.from_departed_pool,
        now=datetime.now(UTC),
    )


@teachers.handler
async def on_teacher_departed(session: AsyncSession, event: TeacherDeparted) -> None:
    await accounts.follow_departure(session, teacher_id=event.teacher_id, now=datetime.now(UTC))


@dataclass
class EventConsumers:
    """The runners, the producer they park dead letters with, and their tasks."""

    settings: GatewaySettings
    producer: AIOKafkaProducer
    runners: list[ConsumerRunner]
    tasks: list[asyncio.Task[Any]] = field(default_factory=list)

    def start(self) -> None:
        self.tasks.append(asyncio.create_task(self._run(), name="gateway-consumers"))

    async def _run(self) -> None:
        # The gateway serves sign-ins whether or not the broker is up: wait for it here.
        topics = [self.settings.topic(t) for t in (*teachers.topics, DLQ_TOPIC)]
        delay = 0.2
        while True:
            try:
                await ensure_topics(self.settings, topics)
                await self.producer.start()
                break
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                log.warning("broker not ready; retrying", extra={"error": repr(exc), "in": delay})
                await asyncio.sleep(delay)
                delay = min(delay * 2, 5.0)
        await asyncio.gather(*(runner.run() for runner in self.runners))

    async def stop(self) -> None:
        """Bounded, like the services' shutdown: a stuck client must not hold the process."""
        for task in self.tasks:
            task.cancel()
        if self.tasks:
            await asyncio.wait(self.tasks, timeout=STOP_TIMEOUT)
        with contextlib.suppress(Exception):
            await asyncio.wait_for(self.producer.stop(), STOP_TIMEOUT)


def start_consumers(
    settings: GatewaySettings, session_factory: async_sessionmaker[AsyncSession]
) -> EventConsumers | None:
    if not settings.run_consumers:
        return None
    producer = make_producer(settings)
    consumers = EventConsumers(
        settings=settings,
        producer=producer,
        runners=[
            ConsumerRunner(
                subscriber=teachers,
                settings=settings,
                session_factory=session_factory,
                inbox=inbox,
                dlq_producer=producer,
                dlq_topic=DLQ_TOPIC,
            )
        ],
    )
    consumers.start()
    return consumers
