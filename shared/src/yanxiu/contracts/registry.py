"""Every event type and version the platform knows, by (type, version)."""

from __future__ import annotations

from yanxiu.contracts import credits, enrollment, learning, lessons
from yanxiu.contracts.envelope import Event

_ALL: list[type[Event]] = [
    enrollment.TeacherRegistered,
    enrollment.TeacherWithdrawn,
    enrollment.ProjectOpened,
    enrollment.TeacherCreated,
    enrollment.TeacherUpdated,
    enrollment.TeacherTransferred,
    enrollment.TeacherDeparted,
    enrollment.UnitSubmitted,
    enrollment.WorkshopJoined,
    *learning.EVENTS,
    *lessons.EVENTS,
    *credits.EVENTS,
]

REGISTRY: dict[tuple[str, int], type[Event]] = {(c.TYPE, c.VERSION): c for c in _ALL}


def event_class(type_: str, version: int) -> type[Event] | None:
    return REGISTRY.get((type_, version))


def all_events() -> list[type[Event]]:
    return list(_ALL)
