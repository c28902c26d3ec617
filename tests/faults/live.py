"""The platform as production runs it, for the fault suite: each service and the gateway a
long-running uvicorn process, on a PostgreSQL server and a Kafka-protocol broker that belong to
the test (so it may kill, stop and restart them), never the shared ones."""

from __future__ import annotations

import asyncio
import base64
import os
import signal
import subprocess
import sys
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path

import httpx

from yanxiu.devstack.broker import TansuBroker, free_ports
from yanxiu.devstack.paths import SERVICES
from yanxiu.devstack.private_postgres import PrivateServer
from yanxiu.kit.auth import generate_keypair

PROCESSES = (*SERVICES, "gateway")


@dataclass
class LiveStack:
    """The processes of one platform, and the infrastructure under them."""

    home: Path
    database: PrivateServer
    broker: TansuBroker
    database_url: str = ""
    ports: dict[str, int] = field(default_factory=dict)
    procs: dict[str, subprocess.Popen[bytes]] = field(default_factory=dict)
    env: dict[str, str] = field(default_factory=dict)
    # Processes beyond one of each: "learning@2" is a second learning, on a port of its own.
    replicas: tuple[str, ...] = ()
    # What one process's environment has beside the stack's (a second gateway's upstreams).
    own_env: dict[str, dict[str, str]] = field(default_factory=dict)

    def url(self, name: str) -> str:
        return f"http://127.0.0.1:{self.ports[name]}"

    def configure(self, database_url: str) -> None:
        self.database_url = database_url
        keys = self.home / "keys"
        keys.mkdir(parents=True, exist_ok=True)
        private, public = generate_keypair()
        (keys / "jwt-private.pem").write_text(private)
        (keys / "jwt-public.pem").write_text(public)
        names = (*PROCESSES, *self.replicas)
        self.ports = dict(zip(names, free_ports(len(names)), strict=True))
        self.env = {
            **os.environ,
            "DATABASE_URL": database_url,
            "KAFKA_BOOTSTRAP_SERVERS": self.broker.bootstrap,
            "KAFKA_TOPIC_PREFIX": f"f{uuid.uuid4().hex[:6]}.",
            "KAFKA_FETCH_MAX_WAIT_MS": "10",
            "KAFKA_SESSION_TIMEOUT_MS": "6000",
            "KAFKA_HEARTBEAT_INTERVAL_MS": "1000",
            "JWT_PUBLIC_KEY_FILE": str(keys / "jwt-public.pem"),
            "GATEWAY_JWT_PRIVATE_KEY_FILE": str(keys / "jwt-private.pem"),
            "ENROLLMENT_PII_KEY": base64.b64encode(os.urandom(32)).decode(),
            "LEARNING_PROVIDER_SECRET_KEY": base64.b64encode(os.urandom(32)).decode(),
            "GATEWAY_RATE_LIMIT_ENABLED": "false",
            "LESSONS_ENROLLMENT_URL": f"http://127.0.0.1:{self.ports['enrollment']}",
            "INSIGHTS_ENROLLMENT_URL": f"http://127.0.0.1:{self.ports['enrollment']}",
            "LOG_JSON": "true",
            "DB_POOL_SIZE": "5",
            **{f"GATEWAY_{s.upper()}_URL": f"http://127.0.0.1:{self.ports[s]}" for s in SERVICES},
        }

    def start(self, name: str) -> None:
        log = open(self.home / f"{name}.log", "ab")  # noqa: SIM115 (the child holds it)
        with log:
            self.procs[name] = subprocess.Popen(
                [
                    sys.executable,
                    "-m",
                    "uvicorn",
                    f"{name.split('@')[0]}.main:create_app",
                    "--factory",
                    "--host",
                    "127.0.0.1",
                    "--port",
                    str(self.ports[name]),
                    "--no-access-log",
                ],
                env={**self.env, **self.own_env.get(name, {})},
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )

    def kill(self, name: str) -> None:
        """SIGKILL: no shutdown, no drain, as a crashed or OOM-killed process."""
        proc = self.procs.pop(name)
        proc.send_signal(signal.SIGKILL)
        proc.wait(10)

    async def wait_up(self, name: str, timeout: float = 60.0) -> None:
        """Until the process answers /healthz (it is up; readiness may still be red)."""
        deadline = time.monotonic() + timeout
        async with httpx.AsyncClient(timeout=2.0) as client:
            while time.monotonic() < deadline:
                proc = self.procs[name]
                if proc.poll() is not None:
                    raise RuntimeError(f"{name} exited with {proc.returncode}: {self.tail(name)}")
                try:
                    if (await client.get(f"{self.url(name)}/healthz")).status_code == 200:
                        return
                except httpx.HTTPError:
                    pass
                await asyncio.sleep(0.1)
        raise TimeoutError(f"{name} did not come up: {self.tail(name)}")

    async def restart(self, name: str) -> None:
        self.start(name)
        await self.wait_up(name)

    def tail(self, name: str, lines: int = 30) -> str:
        path = self.home / f"{name}.log"
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])

    def stop_all(self) -> None:
        for proc in self.procs.values():
            if proc.poll() is None:
                proc.send_signal(signal.SIGTERM)
        for proc in self.procs.values():
            try:
                proc.wait(15)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
        self.procs.clear()
