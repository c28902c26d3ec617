"""Coalescing writes: requests hand items to a batcher and wait; the batcher gathers what arrived
within a short window (or up to `max_size`) and flushes it as one unit (one transaction), then
answers every waiting request with its own result. A request is answered only after its batch
was flushed, so an accepted heartbeat is durable before its 2xx goes out.

Up to `concurrency` flushes run at once, so one slow commit does not stall the next batch;
whatever the flush does must therefore be correct when batches overlap (row locks)."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable, Sequence
from typing import Generic, TypeVar

T = TypeVar("T")
R = TypeVar("R")
log = logging.getLogger(__name__)

Flush = Callable[[Sequence[T]], Awaitable[Sequence[R | BaseException]]]


class BatcherClosed(RuntimeError):
    """The process is shutting down; the item was not written."""


class Batcher(Generic[T, R]):
    def __init__(
        self,
        flush: Flush[T, R],
        *,
        max_size: int = 500,
        window_seconds: float = 0.002,
        concurrency: int = 2,
    ) -> None:
        self._flush = flush
        self.max_size = max_size
        self.window = window_seconds
        self._slots = asyncio.Semaphore(concurrency)
        self._pending: list[tuple[T, asyncio.Future[R]]] = []
        self._wake = asyncio.Event()
        self._full = asyncio.Event()
        self._running: set[asyncio.Task[None]] = set()
        self._closed = False
        self.batches = 0
        self.items = 0

    async def submit(self, item: T) -> R:
        """Queue one item; returns its result once its batch has been flushed."""
        if self._closed:
            raise BatcherClosed()
        future: asyncio.Future[R] = asyncio.get_running_loop().create_future()
        self._pending.append((item, future))
        self._wake.set()
        if len(self._pending) >= self.max_size:
            self._full.set()
        return await future

    async def run(self) -> None:
        """The collecting loop; run it as a task, cancel it to stop (pending items fail)."""
        try:
            while True:
                await self._wake.wait()
                # The window lets concurrent requests join; a full batch goes at once.
                if len(self._pending) < self.max_size and self.window > 0:
                    with contextlib.suppress(TimeoutError):
                        async with asyncio.timeout(self.window):  # keeps a cancellation
                            await self._full.wait()
                await self._slots.acquire()
                batch = self._pending[: self.max_size]
                del self._pending[: self.max_size]
                if len(self._pending) < self.max_size:
                    self._full.clear()
                if not self._pending:
                    self._wake.clear()
                if not batch:
                    self._slots.release()
                    continue
                task = asyncio.create_task(self._write(batch))
                self._running.add(task)
                task.add_done_callback(self._running.discard)
        finally:
            self._closed = True
            if self._running:
                await asyncio.wait(self._running, timeout=10)
            for _item, future in self._pending:
                if not future.done():
                    future.set_exception(BatcherClosed())
            self._pending.clear()

    async def _write(self, batch: list[tuple[T, asyncio.Future[R]]]) -> None:
        try:
            results = await self._flush([item for item, _ in batch])
        except BaseException as exc:  # the whole batch failed: every waiter learns why
            log.exception("batch flush failed", extra={"size": len(batch)})
            for _, future in batch:
                if not future.done():
                    future.set_exception(exc if isinstance(exc, Exception) else BatcherClosed())
            if not isinstance(exc, Exception):
                raise
        else:
            self.batches += 1
            self.items += len(batch)
            for (_, future), result in zip(batch, results, strict=True):
                if future.done():
                    continue
                if isinstance(result, BaseException):
                    future.set_exception(result)
                else:
                    future.set_result(result)
        finally:
            self._slots.release()
