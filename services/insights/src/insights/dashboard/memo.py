"""What a dashboard request would otherwise read every time and that hardly ever changes: a
project's name and year, an org's place in the tree, an org's name. Kept per process (on the
runtime), each entry for a while; a miss reads the database as before."""

from __future__ import annotations

import time
from collections.abc import Hashable
from dataclasses import dataclass, field
from typing import Any, Generic, TypeVar

V = TypeVar("V")
LIMIT = 50_000  # entries per memo: past it, the memo starts again (orgs number ~20,000)


@dataclass
class Memo(Generic[V]):
    ttl: float
    entries: dict[Hashable, tuple[float, V]] = field(default_factory=dict)

    def get(self, key: Hashable) -> V | None:
        found = self.entries.get(key)
        if found is None:
            return None
        at, value = found
        if time.monotonic() - at > self.ttl:
            del self.entries[key]
            return None
        return value

    def put(self, key: Hashable, value: V) -> None:
        if len(self.entries) >= LIMIT:
            self.entries.clear()
        self.entries[key] = (time.monotonic(), value)


@dataclass
class DashboardMemo:
    projects: Memo[Any] = field(default_factory=lambda: Memo(ttl=60.0))
    paths: Memo[list[tuple[str, int]]] = field(default_factory=lambda: Memo(ttl=300.0))
    names: Memo[str] = field(default_factory=lambda: Memo(ttl=3600.0))
