"""A loop that runs until cancelled stops when asked, even where a cancellation was swallowed
on its way (Python 3.11's `wait_for` does so when the awaited result and the cancellation
arrive together)."""

from __future__ import annotations

import asyncio
import contextlib

import pytest

from yanxiu.kit.cancellation import stop_if_asked


async def swallowing_step() -> None:
    """What a library does that loses a cancellation: it catches it and carries on."""
    with contextlib.suppress(asyncio.CancelledError):
        await asyncio.sleep(0.05)


async def test_a_loop_whose_cancellation_was_swallowed_stops_at_its_next_turn() -> None:
    turns = 0

    async def loop() -> None:
        nonlocal turns
        while True:
            stop_if_asked()
            turns += 1
            await swallowing_step()

    task = asyncio.create_task(loop())
    await asyncio.sleep(0.01)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        async with asyncio.timeout(1.0):
            await task
    assert turns == 1


async def test_a_timeout_that_expired_inside_a_turn_does_not_stop_the_loop() -> None:
    turns = 0

    async def loop() -> None:
        nonlocal turns
        while turns < 3:
            stop_if_asked()
            turns += 1
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(0.001):
                    await asyncio.sleep(1)

    await asyncio.wait_for(loop(), 2.0)
    assert turns == 3
