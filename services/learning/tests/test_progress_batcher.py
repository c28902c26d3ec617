"""Unit tests of the write-coalescing batcher (no I/O: the flush is a plain function)."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Sequence

import pytest

from learning.progress.batcher import Batcher, BatcherClosed


async def test_concurrent_items_are_flushed_together_and_each_gets_its_own_result() -> None:
    batches: list[list[int]] = []

    async def flush(items: Sequence[int]) -> list[int | BaseException]:
        batches.append(list(items))
        await asyncio.sleep(0.01)
        return [i * 2 for i in items]

    batcher: Batcher[int, int] = Batcher(flush, max_size=50, window_seconds=0.005)
    runner = asyncio.create_task(batcher.run())
    try:
        results = await asyncio.gather(*(batcher.submit(i) for i in range(120)))
    finally:
        runner.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await runner
    assert results == [i * 2 for i in range(120)]
    assert all(len(b) <= 50 for b in batches)
    assert len(batches) <= 4  # 120 items in batches of at most 50, not one flush each


async def test_an_answer_waits_for_its_flush() -> None:
    done = asyncio.Event()

    async def flush(items: Sequence[str]) -> list[str | BaseException]:
        await done.wait()
        return list(items)

    batcher: Batcher[str, str] = Batcher(flush, window_seconds=0)
    runner = asyncio.create_task(batcher.run())
    waiting = asyncio.create_task(batcher.submit("x"))
    await asyncio.sleep(0.02)
    assert not waiting.done()
    done.set()
    assert await waiting == "x"
    runner.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await runner


async def test_a_failed_flush_fails_every_waiter_and_per_item_errors_stay_per_item() -> None:
    async def flush(items: Sequence[int]) -> list[int | BaseException]:
        if 0 in items:
            raise RuntimeError("database down")
        return [ValueError("odd") if i % 2 else i for i in items]

    batcher: Batcher[int, int] = Batcher(flush, window_seconds=0.001)
    runner = asyncio.create_task(batcher.run())
    with pytest.raises(RuntimeError):
        await batcher.submit(0)
    assert await batcher.submit(2) == 2
    with pytest.raises(ValueError):
        await batcher.submit(3)
    runner.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await runner
    with pytest.raises(BatcherClosed):
        await batcher.submit(4)
