"""Events produced by the credits service (学分登记, topic `credits.events.v1`).

The credits issue adds its events here (and to EVENTS); nothing consumes them yet."""

from __future__ import annotations

from yanxiu.contracts.envelope import Event

CREDITS_TOPIC = "credits.events.v1"

EVENTS: list[type[Event]] = []
