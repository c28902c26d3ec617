"""Upstream connections (上游连接池) of the proxy: keep-alive HTTP/1.1 to each service, one
pool per host, on asyncio protocols with httptools' parser (the one uvicorn serves with).

The proxy hop is the gateway's whole job and the platform's hottest path (a heartbeat every few
seconds from every teacher learning): aiohttp's client, which this replaces, spent more on each
forwarded request than the rest of the gateway together (bench/learning_heartbeats.py).

- Bodies stream both ways, with flow control: reading from the service pauses while a slow
  client has not taken what was read, and writing waits while the service is not reading.
- A connection goes back to its pool only after a whole response on a keep-alive connection;
  anything else (an error, a timeout, a body left unread) closes it.
- Idle connections are dropped before the services' own keep-alive timeout (uvicorn: 5 s), so
  a request is not sent on a connection the service is closing. A reused connection that
  closes before any answer is retried once on a new one, for idempotent methods only.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections import deque
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import cast
from urllib.parse import urlsplit

import httptools

Headers = list[tuple[bytes, bytes]]

IDEMPOTENT = frozenset({b"GET", b"HEAD", b"OPTIONS", b"PUT", b"DELETE"})
# Pause reading from the service above this many buffered bytes a slow client has not taken.
_READ_HIGH, _READ_LOW = 1 << 20, 1 << 18


class UpstreamError(Exception):
    """The service could not be reached, or broke off."""


class UpstreamTimeout(UpstreamError):
    """The service did not answer in time."""


@dataclass(frozen=True)
class Head:
    status: int
    headers: Headers


class Connection(asyncio.Protocol):
    """One connection to a service, carrying one exchange at a time."""

    def __init__(self, pool: UpstreamPool) -> None:
        self.pool = pool
        self.transport: asyncio.Transport | None = None
        self.closed = False
        self.reused = False
        self.idle_since = 0.0
        self._parser = httptools.HttpResponseParser(self)
        self._loop = asyncio.get_running_loop()
        self._head: asyncio.Future[Head] | None = None
        self._headers: Headers = []
        self._chunks: deque[bytes] = deque()
        self._buffered = 0
        self._complete = False
        self._keep_alive = False
        self._answered = False  # any byte of the current answer arrived
        self._error: BaseException | None = None
        self._readable: asyncio.Future[None] | None = None
        self._writable: asyncio.Future[None] | None = None
        self._reading_paused = False

    # --- asyncio.Protocol -------------------------------------------------------------------

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        # uvloop's transports are not asyncio.Transport subclasses, but have its methods.
        self.transport = cast(asyncio.Transport, transport)

    def connection_lost(self, exc: Exception | None) -> None:
        self.closed = True
        if not self._complete:
            self._fail(exc or ConnectionResetError("the service closed the connection"))
        self._wake_writer()

    def data_received(self, data: bytes) -> None:
        self._answered = True
        try:
            self._parser.feed_data(data)
        except httptools.HttpParserError as exc:
            self._fail(exc)
            self.close()

    def pause_writing(self) -> None:
        self._writable = self._loop.create_future()

    def resume_writing(self) -> None:
        self._wake_writer()

    # --- httptools callbacks ----------------------------------------------------------------

    def on_header(self, name: bytes, value: bytes) -> None:
        self._headers.append((name, value))

    def on_headers_complete(self) -> None:
        if self._head is not None and not self._head.done():
            self._head.set_result(Head(self._parser.get_status_code(), self._headers))

    def on_body(self, body: bytes) -> None:
        self._chunks.append(body)
        self._buffered += len(body)
        if self._buffered > _READ_HIGH and not self._reading_paused and self.transport:
            self._reading_paused = True
            self.transport.pause_reading()
        self._wake_reader()

    def on_message_complete(self) -> None:
        self._complete = True
        self._keep_alive = self._parser.should_keep_alive()
        self._wake_reader()

    # --- one exchange -----------------------------------------------------------------------

    async def send(
        self, head: bytes, body: bytes | AsyncIterator[bytes], *, chunked: bool, timeout: float
    ) -> Head:
        """Writes the request and waits for the answer's status line and headers."""
        assert self.transport is not None
        if self.closed:
            raise UpstreamError("the service closed the connection")
        self._headers, self._chunks, self._buffered = [], deque(), 0
        self._complete = self._keep_alive = self._answered = False
        self._error = None
        self._head = self._loop.create_future()
        if isinstance(body, bytes):
            self.transport.write(head + body)
        else:
            self.transport.write(head)
            async for chunk in body:
                if not chunk:
                    continue
                await self._drain()
                self.transport.write(b"%x\r\n%b\r\n" % (len(chunk), chunk) if chunked else chunk)
            if chunked:
                self.transport.write(b"0\r\n\r\n")
        try:
            async with asyncio.timeout(timeout):
                return await self._head
        except TimeoutError as exc:
            raise UpstreamTimeout("no answer in time") from exc

    async def read(self, timeout: float) -> bytes | None:
        """The next piece of the answer's body; None once it is all read."""
        while not self._chunks:
            if self._complete:
                return None
            if self._error is not None:
                raise UpstreamError(repr(self._error)) from self._error
            self._readable = self._loop.create_future()
            try:
                async with asyncio.timeout(timeout):
                    await self._readable
            except TimeoutError as exc:
                raise UpstreamTimeout("the answer stalled") from exc
        chunk = self._chunks.popleft()
        self._buffered -= len(chunk)
        if self._reading_paused and self._buffered < _READ_LOW and self.transport:
            self._reading_paused = False
            self.transport.resume_reading()
        return chunk

    def buffered_whole(self) -> bytes | None:
        """The whole body when it has already arrived (nearly every answer), else None."""
        if not self._complete:
            return None
        body = b"".join(self._chunks)
        self._chunks.clear()
        self._buffered = 0
        return body

    def finished(self, *, head_only: bool = False) -> bool:
        """May this connection carry another exchange? (Answers to HEAD are not parsed to
        their end, so their connection is not reused.)"""
        return self._complete and self._keep_alive and not self.closed and not head_only

    @property
    def answered(self) -> bool:
        return self._answered

    def close(self) -> None:
        self.closed = True
        if self.transport is not None:
            self.transport.close()

    # --- internals ----------------------------------------------------------------------------

    async def _drain(self) -> None:
        if self.closed:
            raise UpstreamError("the service closed the connection")
        if self._writable is not None and not self._writable.done():
            await self._writable

    def _fail(self, exc: BaseException) -> None:
        self._error = exc
        if self._head is not None and not self._head.done():
            self._head.set_exception(UpstreamError(repr(exc)))
            self._head.exception()  # retrieved: a failed exchange nobody awaits is not an error
        self._wake_reader()

    def _wake_reader(self) -> None:
        if self._readable is not None and not self._readable.done():
            self._readable.set_result(None)

    def _wake_writer(self) -> None:
        if self._writable is not None and not self._writable.done():
            self._writable.set_result(None)


class UpstreamPool:
    """Keep-alive connections to one service (host and port)."""

    def __init__(
        self,
        base_url: str,
        *,
        limit: int,
        connect_timeout: float,
        timeout: float,
        idle_seconds: float = 2.0,
    ) -> None:
        parts = urlsplit(base_url)
        if parts.scheme != "http" or not parts.hostname:
            raise ValueError(f"upstream URL must be http://host:port, got {base_url!r}")
        self.host = parts.hostname
        self.port = parts.port or 80
        self.authority = parts.netloc.encode("latin-1")
        self.prefix = parts.path.rstrip("/").encode("latin-1")  # a service mounted under a path
        self.connect_timeout = connect_timeout
        self.timeout = timeout
        self.idle_seconds = idle_seconds
        self._slots = asyncio.Semaphore(limit)
        self._idle: list[Connection] = []
        self._closed = False

    @property
    def idle(self) -> int:
        return len(self._idle)

    async def exchange(
        self,
        method: bytes,
        target: bytes,
        headers: Headers,
        body: bytes | AsyncIterator[bytes],
        *,
        chunked: bool = False,
    ) -> tuple[Head, Connection]:
        """Sends one request; returns the answer's head and the connection to read its body
        from, which the caller hands back with `release` (in a finally)."""
        head = _request_head(method, self.prefix + target, self.authority, headers)
        await self._slots.acquire()
        try:
            conn = await self._checkout()
            try:
                return await conn.send(head, body, chunked=chunked, timeout=self.timeout), conn
            except UpstreamTimeout:
                conn.close()
                raise
            except UpstreamError:
                conn.close()
                # A kept-alive connection the service closed before answering: once more, new.
                retry = conn.reused and not conn.answered and method in IDEMPOTENT
                if not (retry and isinstance(body, bytes)):
                    raise
            except BaseException:
                conn.close()
                raise
            conn = await self._connect()
            try:
                return await conn.send(head, body, chunked=chunked, timeout=self.timeout), conn
            except BaseException:
                conn.close()
                raise
        except BaseException:
            self._slots.release()
            raise

    def release(self, conn: Connection, *, reusable: bool) -> None:
        """Ends an exchange: the connection is kept for the next one, or closed."""
        self._slots.release()
        if reusable and not self._closed and conn.finished():
            conn.reused = True
            conn.idle_since = time.monotonic()
            self._idle.append(conn)
        else:
            conn.close()

    async def close(self) -> None:
        self._closed = True
        while self._idle:
            self._idle.pop().close()

    async def _checkout(self) -> Connection:
        now = time.monotonic()
        while self._idle:
            conn = self._idle.pop()  # the most recently used: warm, and the others can age out
            if not conn.closed and now - conn.idle_since < self.idle_seconds:
                return conn
            conn.close()
        return await self._connect()

    async def _connect(self) -> Connection:
        loop = asyncio.get_running_loop()
        try:
            async with asyncio.timeout(self.connect_timeout):
                transport, conn = await loop.create_connection(
                    lambda: Connection(self), self.host, self.port
                )
        except (OSError, TimeoutError) as exc:
            raise UpstreamError(f"cannot connect to {self.host}:{self.port}: {exc!r}") from exc
        # uvloop returns before it has called connection_made.
        conn.transport = transport
        return conn


def _request_head(method: bytes, target: bytes, authority: bytes, headers: Headers) -> bytes:
    lines = [method, b" ", target, b" HTTP/1.1\r\nhost: ", authority, b"\r\n"]
    for name, value in headers:
        lines += (name, b": ", value, b"\r\n")
    lines.append(b"\r\n")
    return b"".join(lines)


class Pools:
    """The gateway's pools, one per upstream base URL (services at the same URL share one)."""

    def __init__(self, *, limit: int, connect_timeout: float, timeout: float) -> None:
        self._limit, self._connect_timeout, self._timeout = limit, connect_timeout, timeout
        self._pools: dict[str, UpstreamPool] = {}

    def for_url(self, base_url: str) -> UpstreamPool:
        key = base_url.rstrip("/")
        pool = self._pools.get(key)
        if pool is None:
            pool = self._pools[key] = UpstreamPool(
                base_url,
                limit=self._limit,
                connect_timeout=self._connect_timeout,
                timeout=self._timeout,
            )
        return pool

    def __len__(self) -> int:
        return len(self._pools)

    async def close(self) -> None:
        for pool in self._pools.values():
            with contextlib.suppress(Exception):
                await pool.close()
