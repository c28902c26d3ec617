"""The processes of `yanxiu run`, supervised: a service, the gateway or the embedded broker
that dies is started again after a pause that doubles up to a cap (and is said so on the
console); every child is guarded (yanxiu.devstack.lifeline), so none outlives `yanxiu run`."""

from __future__ import annotations

import asyncio
import contextlib
import signal
import subprocess
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import httpx

from yanxiu.devstack.broker import port_open

FIRST_DELAY = 1.0
MAX_DELAY = 30.0
# A process that stayed up this long is healthy again: its next crash restarts at once.
STABLE_AFTER = 60.0
STOP_WAIT = 10.0
CHECK_EVERY = 0.2


def how_it_ended(returncode: int) -> str:
    if returncode < 0:
        with contextlib.suppress(ValueError):
            return f"killed by {signal.Signals(-returncode).name}"
    return f"exited with code {returncode}"


@dataclass
class Child:
    """One supervised process: how to start it, and where it answers when it is back."""

    name: str
    start: Callable[[], subprocess.Popen[bytes]]
    port: int
    ready_url: str | None = None  # polled after a restart; None: the port opening is enough
    log: Path | None = None
    proc: subprocess.Popen[bytes] | None = None
    started_at: float = 0.0
    delay: float | None = None  # the pause before its next restart (None: the first one)
    restarts: int = 0

    def launch(self) -> None:
        self.proc = self.start()
        self.started_at = time.monotonic()

    @property
    def running(self) -> bool:
        return self.proc is not None and self.proc.poll() is None


@dataclass
class Supervisor:
    say: Callable[[str], None]
    children: dict[str, Child] = field(default_factory=dict)
    first_delay: float = FIRST_DELAY
    max_delay: float = MAX_DELAY
    stable_after: float = STABLE_AFTER

    def add(self, child: Child) -> None:
        self.children[child.name] = child
        child.launch()

    def exited(self) -> list[tuple[str, int]]:
        """Children that are not running any more, with their return codes."""
        return [
            (c.name, c.proc.returncode)
            for c in self.children.values()
            if c.proc is not None and c.proc.poll() is not None
        ]

    async def watch(self, stop: asyncio.Event) -> None:
        """Until `stop`: restart whatever dies, each after its own backoff."""
        pending: dict[str, asyncio.Task[None]] = {}
        try:
            while not stop.is_set():
                for child in self.children.values():
                    if child.name in pending or child.proc is None or child.running:
                        continue
                    pending[child.name] = asyncio.create_task(self._restart(child, stop))
                for name in [n for n, t in pending.items() if t.done()]:
                    pending.pop(name)
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(stop.wait(), CHECK_EVERY)
        finally:
            for task in pending.values():
                task.cancel()
            await asyncio.gather(*pending.values(), return_exceptions=True)

    async def _restart(self, child: Child, stop: asyncio.Event) -> None:
        assert child.proc is not None
        uptime = time.monotonic() - child.started_at
        if child.delay is None or uptime >= self.stable_after:
            child.delay = self.first_delay
        delay = child.delay
        child.delay = min(child.delay * 2, self.max_delay)
        child.restarts += 1
        log = f"; see {child.log}" if child.log else ""
        self.say(
            f"{child.name} {how_it_ended(child.proc.returncode)} after {uptime:.1f}s{log}; "
            f"restarting in {delay:g}s (restart {child.restarts})"
        )
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), delay)
        if stop.is_set():
            return
        # The port of a process killed a moment ago is free at once (its socket died with
        # it); anything else on it is not ours to fight for: wait, and say so.
        while port_open("127.0.0.1", child.port):
            self.say(f"{child.name}: port {child.port} is taken; retrying in {child.delay:g}s")
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), child.delay)
            if stop.is_set():
                return
            child.delay = min(child.delay * 2, self.max_delay)
        started = time.monotonic()
        child.launch()
        if await self._back(child, stop):
            self.say(
                f"{child.name} is back (ready {time.monotonic() - started:.1f}s after restart)"
            )

    async def _back(self, child: Child, stop: asyncio.Event) -> bool:
        async with httpx.AsyncClient(timeout=2.0) as client:
            while not stop.is_set() and child.running:
                if child.ready_url is None:
                    if port_open("127.0.0.1", child.port):
                        return True
                else:
                    with contextlib.suppress(httpx.HTTPError):
                        if (await client.get(child.ready_url)).status_code == 200:
                            return True
                await asyncio.sleep(0.2)
        return False

    def stop(self, names: list[str]) -> None:
        """SIGTERM to these children together, a bounded wait, then SIGKILL for any left."""
        children = [self.children[n] for n in names if n in self.children]
        for child in children:
            if child.running:
                assert child.proc is not None
                child.proc.send_signal(signal.SIGTERM)
        for child in children:
            if child.proc is None:
                continue
            try:
                child.proc.wait(STOP_WAIT)
            except subprocess.TimeoutExpired:
                self.say(f"{child.name} did not stop in time; killing it")
                child.proc.kill()
                child.proc.wait()
