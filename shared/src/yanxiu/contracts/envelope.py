"""The event envelope and the base class of every event payload."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any, ClassVar

from pydantic import BaseModel, ConfigDict, Field


class Envelope(BaseModel):
    """What travels on the wire: metadata around one event's `data`."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    id: uuid.UUID
    type: str = Field(min_length=1, max_length=200)
    version: int = Field(ge=1)
    occurred_at: datetime
    producer: str
    key: str
    trace_id: str
    data: dict[str, Any]


class OrgPath(BaseModel):
    """A teacher's place in the org tree, carried on every teacher event so read models and
    dashboards can be built from the streams alone."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    province_id: str
    city_id: str
    county_id: str
    school_id: str

    def as_list(self) -> list[str]:
        return [self.province_id, self.city_id, self.county_id, self.school_id]


class Event(BaseModel):
    """Base of every event payload. Subclasses declare TYPE, VERSION, TOPIC and KEY_FIELD once,
    with a comment block saying what the fact is."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    TYPE: ClassVar[str]
    VERSION: ClassVar[int] = 1
    TOPIC: ClassVar[str]
    KEY_FIELD: ClassVar[str]

    def key(self) -> str:
        return str(getattr(self, self.KEY_FIELD))

    def envelope(
        self, *, producer: str, trace_id: str, occurred_at: datetime | None = None
    ) -> Envelope:
        return Envelope(
            id=uuid.uuid4(),
            type=self.TYPE,
            version=self.VERSION,
            occurred_at=occurred_at or datetime.now(UTC),
            producer=producer,
            key=self.key(),
            trace_id=trace_id,
            data=self.model_dump(mode="json"),
        )
