"""What a process's /readyz answers, and how its callers read it (the gateway, `yanxiu run`,
the benches and the tests).

A process is ready (200) when it can serve requests: every check it cannot serve without (a
service's database; the gateway's view of ended sessions) is "ok". The other checks (the broker
and the outbox relay of a service, the services behind the gateway) are reported in the body and
make its status "degraded", never a 503: each replica shares them with every other, so a
readiness that followed them would take every pod out of its Service at once in a Kafka outage,
although writes go on into the outboxes. Their own metrics and alerts (yanxiu_broker_reachable,
the outbox gauges) are how an operator hears of them.

    {"status": "ok" | "degraded" | "unavailable", "checks": {"database": "ok", "broker": …}}
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from typing import Any

OK = "ok"
DEGRADED = "degraded"  # 200: serving, with something it can do without missing
UNAVAILABLE = "unavailable"  # 503: this replica cannot serve requests


def verdict(checks: Mapping[str, Any], required: Collection[str]) -> str:
    """The status a process's checks add up to; a required check that is missing fails."""
    if any(checks.get(name) != OK for name in required):
        return UNAVAILABLE
    if all(value == OK for value in checks.values() if isinstance(value, str)):
        return OK
    return DEGRADED


def fully_ready(body: Any) -> bool:
    """A /readyz body with every check "ok": the broker and the events too, and through the
    gateway's, every service's. What a caller that needs events to flow waits for (`yanxiu run`
    before it says the platform is up, the tests before they start); a 200 alone says only that
    the process serves requests."""
    return isinstance(body, dict) and body.get("status") == OK
