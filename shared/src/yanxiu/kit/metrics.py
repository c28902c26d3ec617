"""Prometheus metrics shared by the machinery; services add their own beside them.

Names follow Prometheus conventions (base units, `_total` counters). What an operator reads
from them, and the alerts built on them, are in deploy/prometheus and deploy/grafana; the
dashboards' test (shared/tests/test_monitoring_config.py) fails when a name here changes."""

from __future__ import annotations

from prometheus_client import Counter, Gauge, Histogram

RELAY_PUBLISHED = Counter("yanxiu_outbox_published_total", "Outbox rows published", ["schema"])
# The relay's watch on the broker (yanxiu.kit.broker_loss): each time it found the broker had
# lost events it acknowledged, and the outbox rows it put back in the queue for it.
RELAY_BROKER_RESETS = Counter(
    "yanxiu_relay_broker_resets_total",
    "Times the relay found the broker had lost events it had acknowledged",
    ["schema"],
)
RELAY_REQUEUED = Counter(
    "yanxiu_relay_requeued_total",
    "Outbox rows sent again because the broker had lost them",
    ["schema"],
)
RELAY_ERRORS = Counter(
    "yanxiu_relay_errors_total",
    "Relay batches that failed (broker or database away, a send refused); retried",
    ["schema"],
)
OUTBOX_UNPUBLISHED = Gauge(
    "yanxiu_outbox_unpublished", "Outbox rows waiting to be published", ["schema"]
)
OUTBOX_OLDEST_AGE = Gauge(
    "yanxiu_outbox_oldest_unpublished_seconds",
    "Age of the oldest outbox row waiting to be published (0: none waits)",
    ["schema"],
)
CONSUMER_RECONNECTS = Counter(
    "yanxiu_consumer_reconnects_total",
    "Times a consumer dropped its broker connection and started again",
    ["consumer"],
)
CONSUMER_REWINDS = Counter(
    "yanxiu_consumer_rewinds_total",
    "Partitions a consumer read again from the start because the broker forgot its progress",
    ["consumer"],
)
EVENTS_HANDLED = Counter(
    "yanxiu_events_handled_total", "Events handled by consumers", ["consumer", "type", "outcome"]
)
# Per event; on the batch path a batch's time is shared out evenly among its events.
EVENT_HANDLE_SECONDS = Histogram(
    "yanxiu_event_handle_seconds",
    "Event handling time (a batch's share per event)",
    ["consumer"],
    buckets=(0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0),
)
# How far each consumer is behind, per partition: the end of the log it last fetched minus
# the offset it committed (set after every poll; a partition it lost in a rebalance is removed).
CONSUMER_LAG = Gauge(
    "yanxiu_consumer_lag_messages",
    "Messages in the partition after the consumer's committed offset",
    ["consumer", "topic", "partition"],
)
# Parked in the service's dead-letter topic, by the event type the record carried ("unknown"
# for one that could not be read).
DEAD_LETTERS = Counter(
    "yanxiu_dead_letters_total",
    "Messages parked in the dead-letter topic",
    ["service", "consumer", "type"],
)
DLQ_MESSAGES = Gauge(
    "yanxiu_dlq_messages",
    "Messages in the service's dead-letter topic not yet replayed or dropped",
    ["service"],
)
# cause: "unavailable" or "conflict" (the infrastructure's, retried for as long as it takes) or
# "handler" (the handler's own error, retried a few times, then dead-lettered).
CONSUMER_RETRIES = Counter(
    "yanxiu_consumer_retries_total", "Consumer retries by cause", ["consumer", "cause"]
)
CONSUMER_WAITING = Gauge(
    "yanxiu_consumer_waiting_for_infrastructure",
    "1 while a consumer holds its partition waiting for its database or broker to come back",
    ["consumer"],
)
# By route template ("/teachers/{teacher_id}"; "/api/v1/<service>/{path}" for what the gateway
# forwards; "unmatched" for a path no route has) and status: how many, how long, and how many
# statements each sent to the database.
HTTP_REQUESTS = Counter(
    "yanxiu_http_requests_total", "HTTP requests", ["service", "method", "route", "status"]
)
HTTP_SECONDS = Histogram(
    "yanxiu_http_request_duration_seconds",
    "HTTP request duration by route template and status",
    ["service", "method", "route", "status"],
    buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0),
)
HTTP_DB_STATEMENTS = Histogram(
    "yanxiu_http_db_statements",
    "Database statements sent per HTTP request, by route template",
    ["service", "method", "route"],
    buckets=(0, 1, 2, 3, 4, 6, 8, 12, 16, 24, 32, 64),
)
# Admission control (yanxiu.kit.admission): requests refused at once with 503 because the
# process already had its limit in flight, and how many it is working on now (probes excluded).
HTTP_REJECTED = Counter(
    "yanxiu_http_rejected_total",
    "HTTP requests refused before reaching the app",
    ["service", "reason"],
)
HTTP_INFLIGHT = Gauge(
    "yanxiu_http_inflight_requests", "HTTP requests in flight (probes excluded)", ["service"]
)

READY = Gauge(
    "yanxiu_ready",
    "1 if the last /readyz found the process able to serve requests, else 0",
    ["service"],
)
# Set by a service's /readyz. The broker does not make a service unready (every replica shares it:
# yanxiu.kit.readiness), so its loss is alerted on here instead.
BROKER_REACHABLE = Gauge(
    "yanxiu_broker_reachable",
    "1 if the last /readyz found the broker reachable and the producer started, else 0",
    ["service"],
)
# The database pools' gauges are read at each scrape: yanxiu.kit.pool_metrics.
