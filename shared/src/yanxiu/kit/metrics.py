"""Prometheus metrics shared by the machinery; services add their own beside them."""

from __future__ import annotations

from prometheus_client import Counter, Histogram

RELAY_PUBLISHED = Counter("yanxiu_outbox_published_total", "Outbox rows published", ["schema"])
EVENTS_HANDLED = Counter(
    "yanxiu_events_handled_total", "Events handled by consumers", ["consumer", "type", "outcome"]
)
EVENT_HANDLE_SECONDS = Histogram("yanxiu_event_handle_seconds", "Event handling time", ["consumer"])
HTTP_REQUESTS = Counter(
    "yanxiu_http_requests_total", "HTTP requests", ["service", "method", "status"]
)
