"""Business code records events here, inside its own transaction; the relay sends them."""

from __future__ import annotations

from sqlalchemy import Table, insert
from sqlalchemy.ext.asyncio import AsyncSession

from yanxiu.contracts.envelope import Envelope, Event
from yanxiu.kit.context import current_trace_id


class Outbox:
    """`await outbox.add(session, TeacherRegistered(...))` — never sends, only records."""

    def __init__(self, table: Table, *, producer: str) -> None:
        self.table = table
        self.producer = producer

    async def add(self, session: AsyncSession, *events: Event) -> list[Envelope]:
        envelopes = [
            e.envelope(producer=self.producer, trace_id=current_trace_id()) for e in events
        ]
        if envelopes:
            await session.execute(
                insert(self.table),
                [
                    {
                        "event_id": env.id,
                        "topic": ev.TOPIC,
                        "key": env.key,
                        "event_type": env.type,
                        "payload": env.model_dump_json().encode(),
                    }
                    for env, ev in zip(envelopes, events, strict=True)
                ],
            )
        return envelopes
