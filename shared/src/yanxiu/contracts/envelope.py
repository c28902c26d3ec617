"""The event envelope and the base class of every event payload.

Strict writers, tolerant readers (docs/events.md). Constructing or validating a model refuses a
field it does not declare, so a producer's typo fails in its own tests. A consumer reads with
`Envelope.read` / `Event.read`, which ignore fields they do not know, in the envelope and at any
depth of `data`: within a version fields are only added, and a consumer still on the older
model must handle the newer event, not dead-letter it.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any, ClassVar, Self

from pydantic import BaseModel, ConfigDict, Field

# Producers: strict. Readers get their tolerance per call (`extra="ignore"` in `read`), which
# pydantic applies to nested models too.
_STRICT = ConfigDict(frozen=True, extra="forbid")


class Envelope(BaseModel):
    """What travels on the wire: metadata around one event's `data`."""

    model_config = _STRICT

    id: uuid.UUID
    type: str = Field(min_length=1, max_length=200)
    version: int = Field(ge=1)
    occurred_at: datetime
    producer: str
    key: str
    trace_id: str
    data: dict[str, Any]

    @classmethod
    def read(cls, raw: bytes | str) -> Self:
        """A consumer's view of a message: fields a newer producer added are ignored."""
        return cls.model_validate_json(raw, extra="ignore")


class OrgPath(BaseModel):
    """A teacher's place in the org tree, carried on every teacher event so read models and
    dashboards can be built from the streams alone."""

    model_config = _STRICT

    province_id: str
    city_id: str
    county_id: str
    school_id: str

    def as_list(self) -> list[str]:
        return [self.province_id, self.city_id, self.county_id, self.school_id]


class Event(BaseModel):
    """Base of every event payload. Subclasses declare TYPE, VERSION, TOPIC and KEY_FIELD once,
    with a comment block saying what the fact is."""

    model_config = _STRICT

    TYPE: ClassVar[str]
    VERSION: ClassVar[int] = 1
    TOPIC: ClassVar[str]
    KEY_FIELD: ClassVar[str]

    @classmethod
    def read(cls, data: Mapping[str, Any]) -> Self:
        """A consumer's view of an envelope's `data`: fields a newer producer added, here or in
        nested models, are ignored."""
        return cls.model_validate(data, extra="ignore")

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
