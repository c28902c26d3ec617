"""Password work (argon2) off the event loop, bounded: a few threads do it, a bounded number
of sign-ins wait their turn, and past that a sign-in is answered 429 at once. argon2 costs a
large share of a core and 64 MiB for each check by design; unbounded, a login storm would queue
without end, exhaust memory and hold everything else up."""

from __future__ import annotations

import asyncio
import contextlib
import math
import time
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from typing import TypeVar

from gateway.passwords import decoy_hash, hash_password, verify_password
from yanxiu.kit.errors import DomainError

T = TypeVar("T")


class SignInBusy(DomainError):
    status = 429
    code = "sign_in_busy"
    title_zh = "登录请求过多，请稍后重试"
    title_en = "Too many sign-ins at once, retry shortly"

    def __init__(self, retry_after: int) -> None:
        super().__init__(
            f"登录请求过多，请 {retry_after} 秒后重试",
            f"Too many sign-ins at once, retry in {retry_after} s",
            retry_after=retry_after,
        )


class PasswordHashing:
    def __init__(self, *, workers: int, queue: int) -> None:
        self.workers = workers
        self.capacity = workers + queue
        self._executor = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="argon2")
        self._pending = 0
        self._seconds = 0.2  # running estimate of one check, for Retry-After

    @property
    def pending(self) -> int:
        return self._pending

    async def verify(self, password_hash: str | None, password: str) -> bool:
        """Checks the password; with no hash (unknown user) it spends the same time on a
        decoy, so that timing does not reveal which usernames exist."""
        if password_hash is None:
            await self._run(_verify_decoy, password)
            return False
        return await self._run(verify_password, password_hash, password)

    async def hash(self, password: str) -> str:
        return await self._run(hash_password, password)

    def close(self) -> None:
        self._executor.shutdown(wait=False, cancel_futures=True)

    async def _run(self, fn: Callable[..., T], *args: object) -> T:
        if self._pending >= self.capacity:
            wait = self._pending * self._seconds / self.workers
            raise SignInBusy(max(1, math.ceil(wait)))
        loop = asyncio.get_running_loop()
        started = time.perf_counter()
        self._pending += 1

        def done(_: Future[T]) -> None:
            # The slot is freed when the thread is done, not when the caller stops waiting:
            # a client that hangs up must not let more work in than there are slots.
            with contextlib.suppress(RuntimeError):  # the loop has closed (shutdown)
                loop.call_soon_threadsafe(self._finished, time.perf_counter() - started)

        try:
            future = self._executor.submit(fn, *args)
        except BaseException:
            self._pending -= 1
            raise
        future.add_done_callback(done)
        return await asyncio.wrap_future(future)

    def _finished(self, seconds: float) -> None:
        self._pending -= 1
        # Includes the wait in the queue; per worker that is the drain rate the caller sees.
        self._seconds = 0.8 * self._seconds + 0.2 * min(seconds, 10.0)


def _verify_decoy(password: str) -> bool:
    # In the worker thread: the decoy's own hashing, the first time, must not block the loop.
    return verify_password(decoy_hash(), password)
