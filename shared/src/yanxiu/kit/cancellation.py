"""A long-running loop stops when its task is asked to, even where the request was swallowed
on its way. On Python 3.11 `asyncio.wait_for` returns the awaited result, and drops the
cancellation, when the two arrive together; libraries still use it (asyncpg, aiokafka). A
relay that lost its cancellation that way went on publishing for the 10 s its process gave it
to stop, after the producer was closed under it."""

from __future__ import annotations

import asyncio


def stop_if_asked() -> None:
    """Raise CancelledError where the current task has a cancellation pending that no one
    took back: call it at the top of each turn of a loop that runs until cancelled. A timeout
    that expired inside the turn has taken its own cancellation back by then (`uncancel`), so
    it does not count."""
    task = asyncio.current_task()
    if task is not None and task.cancelling():
        raise asyncio.CancelledError
