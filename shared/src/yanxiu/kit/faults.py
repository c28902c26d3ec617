"""Which failures are the infrastructure's and which are the work's own.

A database or broker that is down or restarting, a dropped connection, a timeout, an exhausted
pool, a serialization failure or deadlock: none of these says anything about the request or the
event being handled, and the same work succeeds once the infrastructure is back. Consumers wait
them out (never dead-letter them) and the HTTP layer answers 503 with `Retry-After` (never 500).
Everything else is the work's own failure: a bug, a rule, bad data.
"""

from __future__ import annotations

import enum
import logging
import random
import time
from typing import Any

import asyncpg
import httpx
from aiokafka.errors import KafkaError
from sqlalchemy import exc as sa

# SQLSTATEs that clear by themselves: the connection or server (08, 57P0x), resources (53),
# concurrency (40001 serialization failure, 40P01 deadlock, 55P03 lock not available), a
# statement or idle timeout (57014, 25P03, 25P04), the server's own I/O (58).
_UNAVAILABLE_CLASSES = ("08", "53", "58")
_UNAVAILABLE_STATES = frozenset({"57P01", "57P02", "57P03", "57014", "25P03", "25P04", "40003"})
_CONFLICT_STATES = frozenset({"40001", "40P01", "55P03"})

# OSErrors about files, not the network: a missing file is a bug or a deploy, not an outage.
_NOT_NETWORK = (FileNotFoundError, FileExistsError, IsADirectoryError, NotADirectoryError)


class Fault(enum.StrEnum):
    """Why a piece of work failed for reasons outside it."""

    UNAVAILABLE = "unavailable"  # database, broker or peer down, restarting, slow, saturated
    CONFLICT = "conflict"  # lost a race with a concurrent transaction


def _sqlstate(exc: BaseException) -> str:
    return str(getattr(exc, "sqlstate", None) or getattr(exc, "pgcode", None) or "")


def _one(exc: BaseException) -> Fault | None:
    state = _sqlstate(exc)
    if state in _CONFLICT_STATES:
        return Fault.CONFLICT
    if state in _UNAVAILABLE_STATES or state[:2] in _UNAVAILABLE_CLASSES:
        return Fault.UNAVAILABLE
    if isinstance(exc, sa.DBAPIError) and exc.connection_invalidated:
        return Fault.UNAVAILABLE
    if isinstance(
        exc,
        sa.OperationalError
        | sa.InterfaceError
        | sa.DisconnectionError
        | sa.TimeoutError  # the pool had no connection to give in time
        | asyncpg.InterfaceError  # "connection is closed", ConnectionDoesNotExistError
        # the protocol out of step: the server ended the session (it stops, it restarts) while
        # the driver was between operations on it
        | asyncpg.InternalClientError
        | asyncpg.PostgresConnectionError
        | KafkaError
        | httpx.TransportError,  # a peer service unreachable or too slow
    ):
        return Fault.UNAVAILABLE
    if isinstance(exc, OSError) and not isinstance(exc, _NOT_NETWORK):
        return Fault.UNAVAILABLE  # refused, reset, unreachable, TimeoutError
    # A domain error that already says "unavailable" (an upstream's 503) is one too.
    if getattr(exc, "status", None) in (502, 503, 504) and hasattr(exc, "code"):
        return Fault.UNAVAILABLE
    return None


def classify(exc: BaseException) -> Fault | None:
    """The infrastructure fault behind `exc`, or None when the failure is the work's own.
    Follows the chain (SQLAlchemy's `orig`, `raise ... from`, an error raised while handling
    another), since drivers and handlers wrap what the network did."""
    seen: set[int] = set()
    todo: list[BaseException] = [exc]
    while todo and len(seen) < 16:
        current = todo.pop(0)
        if id(current) in seen:
            continue
        seen.add(id(current))
        fault = _one(current)
        if fault is not None:
            return fault
        for nxt in (getattr(current, "orig", None), current.__cause__, current.__context__):
            if isinstance(nxt, BaseException):
                todo.append(nxt)
    return None


def sqlstate(exc: BaseException) -> str:
    """The first SQLSTATE found along the chain of `exc` ("" if none)."""
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        state = _sqlstate(current)
        if state:
            return state
        orig = getattr(current, "orig", None)
        current = orig if isinstance(orig, BaseException) else current.__cause__
    return ""


class Backoff:
    """Capped exponential delays with jitter: a fleet of consumers that lost the same database
    must not come back to it in lockstep."""

    def __init__(self, *, base: float = 0.1, cap: float = 5.0) -> None:
        self.base = base
        self.cap = cap
        self.attempts = 0

    def next(self) -> float:
        delay = min(self.cap, self.base * 2 ** min(self.attempts, 30))  # a days-long outage
        self.attempts += 1
        return delay * random.uniform(0.5, 1.0)


class Throttled:
    """A log line that says "still failing" at most once per `every` seconds, with how many
    were held back: an outage must be loud in the log, not flood it."""

    def __init__(self, logger: logging.Logger, *, every: float = 10.0) -> None:
        self.logger = logger
        self.every = every
        self._last = float("-inf")
        self.held = 0

    def warning(self, msg: str, *, extra: dict[str, Any]) -> None:
        now = time.monotonic()
        if now - self._last < self.every:
            self.held += 1
            return
        self.logger.warning(msg, extra={**extra, "held_back": self.held})
        self._last = now
        self.held = 0
