"""The database pools as Prometheus sees them (`yanxiu_db_pool_connections`,
`yanxiu_db_pool_waiting`): connections in use and idle, and requests waiting for one, for
SQLAlchemy's pool of each service ("orm", transactions) and its Reader's ("reader", plain
reads). Read when Prometheus scrapes, not kept up to date on every checkout.

A pool whose requests wait is the first sign of a database that is slow or too small, well
before the waits turn into 503s (`db_pool_timeout`)."""

from __future__ import annotations

import threading
import weakref
from collections.abc import Iterator
from typing import Any

from prometheus_client import REGISTRY
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector
from sqlalchemy.ext.asyncio import AsyncEngine

from yanxiu.kit.db import WaitCountingPool
from yanxiu.kit.reads import Reader


class _Pools(Collector):
    def __init__(self) -> None:
        self._lock = threading.Lock()
        # A test process builds many apps: the pools of those gone are dropped with them.
        self._engines: list[tuple[str, weakref.ref[AsyncEngine]]] = []
        self._readers: list[tuple[str, weakref.ref[Reader]]] = []

    def watch(self, service: str, engine: AsyncEngine, reader: Reader | None) -> None:
        with self._lock:
            self._engines.append((service, weakref.ref(engine)))
            if reader is not None:
                self._readers.append((service, weakref.ref(reader)))

    def describe(self) -> list[Any]:
        return []  # the families are built at collection; nothing to check at registration

    def collect(self) -> Iterator[GaugeMetricFamily]:
        totals: dict[tuple[str, str], list[int]] = {}  # (service, pool) → in use, idle, waiting
        with self._lock:
            self._engines = [(s, e) for s, e in self._engines if e() is not None]
            self._readers = [(s, r) for s, r in self._readers if r() is not None]
            engines, readers = list(self._engines), list(self._readers)
        for service, engine_ref in engines:
            engine = engine_ref()
            if engine is None:
                continue
            pool = engine.sync_engine.pool
            if not isinstance(pool, WaitCountingPool):
                continue
            row = totals.setdefault((service, "orm"), [0, 0, 0])
            row[0] += pool.checkedout()
            row[1] += pool.checkedin()
            row[2] += pool.waiting
        for service, reader_ref in readers:
            reader = reader_ref()
            if reader is None:
                continue
            in_use, idle = reader.usage()
            row = totals.setdefault((service, "reader"), [0, 0, 0])
            row[0] += in_use
            row[1] += idle
            row[2] += reader.waiting
        connections = GaugeMetricFamily(
            "yanxiu_db_pool_connections",
            "Database connections of the pool, by state (in_use, idle)",
            labels=["service", "pool", "state"],
        )
        waiting = GaugeMetricFamily(
            "yanxiu_db_pool_waiting",
            "Requests waiting for a database connection from the pool",
            labels=["service", "pool"],
        )
        for (service, pool_name), (in_use, idle, waits) in sorted(totals.items()):
            connections.add_metric([service, pool_name, "in_use"], in_use)
            connections.add_metric([service, pool_name, "idle"], idle)
            waiting.add_metric([service, pool_name], waits)
        yield connections
        yield waiting


POOLS = _Pools()
REGISTRY.register(POOLS)


def watch_pools(service: str, engine: AsyncEngine, reader: Reader | None = None) -> None:
    """Report this service's pools at every scrape."""
    POOLS.watch(service, engine, reader)
