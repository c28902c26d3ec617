"""A Redis server of our own for the tests (the gateways' shared rate limits): Debian's
`redis-server` on a free port, keeping nothing on disk, ended with the process that started
it. `REDIS_URL` names one already running instead."""

from __future__ import annotations

import shutil
import subprocess
import time

from yanxiu.devstack.broker import free_port, port_open
from yanxiu.devstack.lifeline import guarded


class RedisServer:
    def __init__(self) -> None:
        self.port = free_port()
        self.proc: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self, timeout: float = 10.0) -> str:
        binary = shutil.which("redis-server")
        if binary is None:
            raise RuntimeError(
                "redis-server not found: install Debian's redis-server, or set REDIS_URL"
            )
        argv = [
            binary,
            "--bind", "127.0.0.1",
            "--port", str(self.port),
            "--save", "",
            "--appendonly", "no",
            "--daemonize", "no",
        ]  # fmt: skip
        self.proc = subprocess.Popen(
            guarded(argv), stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT
        )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"redis-server exited with {self.proc.returncode}")
            if port_open("127.0.0.1", self.port):
                return self.url
            time.sleep(0.05)
        raise RuntimeError("redis-server did not start listening")

    def stop(self) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            self.proc.wait(5)
        self.proc = None
