"""`yanxiu resync --from <service> [--since …]`: the source service writes its current state
into its outbox as events (`<service>.resync.service`), and its running relay publishes them,
so that consumers rebuild a read model the broker can no longer replay (README, "Operations").

Every service that produces events can: enrollment (teachers, registrations), learning (plans,
starts, counted courses, requirements met), lessons (lessons, selections, review loads, reviews,
awards), credits (teacher years, certificates, offline records). Each re-sent event is a
snapshot its consumers apply as an upsert."""

from __future__ import annotations

import dataclasses
import importlib
import uuid
from datetime import datetime
from zoneinfo import ZoneInfo

from yanxiu.kit.context import trace_id_var
from yanxiu.kit.db import make_engine, make_session_factory

SOURCES = ("enrollment", "learning", "lessons", "credits")
SHANGHAI = ZoneInfo("Asia/Shanghai")


def parse_since(text: str) -> datetime:
    """An ISO date or date-time; without a zone it is Asia/Shanghai time, as users read it."""
    at = datetime.fromisoformat(text)
    return at if at.tzinfo is not None else at.replace(tzinfo=SHANGHAI)


async def resync(url: str, *, source: str, since: datetime | None) -> dict[str, int]:
    """Returns how many events of each kind were written to the source's outbox."""
    if source not in SOURCES:
        raise ValueError(f"no resync for {source!r}; known: {', '.join(SOURCES)}")
    service = importlib.import_module(f"{source}.resync.service")

    engine = make_engine(url, pool_size=1)
    # One trace id on every re-sent event: the log and the consumers' traces show the resync.
    token = trace_id_var.set(f"resync-{uuid.uuid4().hex[:12]}")
    try:
        done = await service.resync(make_session_factory(engine), since=since)
    finally:
        trace_id_var.reset(token)
        await engine.dispose()
    if source == "enrollment":
        return {"teacher_updated": done.teachers, "teacher_registered": done.registrations}
    counts: dict[str, int] = dataclasses.asdict(done)
    return counts
