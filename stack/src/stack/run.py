"""`yanxiu run`: PostgreSQL, broker, migrations, the four services and the gateway, demo data;
clear progress on the console and a clean stop on Ctrl-C."""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import httpx

from stack.keys import ensure_local_secrets
from stack.migrate import migrate_all
from yanxiu.devstack.broker import TansuBroker, port_open
from yanxiu.devstack.paths import PORTS, SERVICES, data_dir
from yanxiu.devstack.postgres import create_database, database_name, ensure_server
from yanxiu.kit.db import asyncpg_url


def say(msg: str) -> None:
    print(f"[yanxiu {time.strftime('%H:%M:%S')}] {msg}", flush=True)


@dataclass
class Stack:
    data: Path
    host: str = "127.0.0.1"
    procs: dict[str, subprocess.Popen[bytes]] = field(default_factory=dict)
    broker: TansuBroker | None = None
    env: dict[str, str] = field(default_factory=dict)

    async def start_infra(self) -> None:
        server, how = await ensure_server(self.data)
        say(f"PostgreSQL: {how}")
        wanted = os.environ.get("DATABASE_URL")
        name = database_name(wanted) if wanted else "yanxiu"
        db_url = asyncpg_url(await create_database(server, name))
        say(f"database {name!r} ready; running migrations …")
        done = await migrate_all(db_url)
        say(f"migrations at head: {', '.join(done)}")
        bootstrap = os.environ.get("KAFKA_BOOTSTRAP_SERVERS")
        if bootstrap:
            say(f"broker: KAFKA_BOOTSTRAP_SERVERS={bootstrap}")
        else:
            port = 9092 if not port_open("127.0.0.1", 9092) else None
            self.broker = TansuBroker(port=port, log_file=self.data / "logs" / "tansu.log")
            bootstrap = self.broker.start()
            say(f"broker: embedded Tansu (in memory) at {bootstrap}")
            # Tansu holds a fetch for its full wait time: poll often instead.
            os.environ.setdefault("KAFKA_FETCH_MAX_WAIT_MS", "10")
        self.env = {
            **os.environ,
            **ensure_local_secrets(self.data),
            "DATABASE_URL": db_url,
            "KAFKA_BOOTSTRAP_SERVERS": bootstrap,
            "KAFKA_SESSION_TIMEOUT_MS": os.environ.get("KAFKA_SESSION_TIMEOUT_MS", "6000"),
            "KAFKA_HEARTBEAT_INTERVAL_MS": os.environ.get("KAFKA_HEARTBEAT_INTERVAL_MS", "1000"),
            **{f"GATEWAY_{s.upper()}_URL": f"http://{self.host}:{PORTS[s]}" for s in SERVICES},
            # Links handed out (certificates) point at the gateway, wherever the offset puts it.
            "CREDITS_PUBLIC_BASE_URL": os.environ.get(
                "CREDITS_PUBLIC_BASE_URL",
                f"http://{self.host}:{PORTS['gateway']}/api/v1/credits",
            ),
        }

    def log_path(self, name: str) -> Path:
        return self.data / "logs" / f"{name}.log"

    def start_process(self, name: str) -> None:
        port = PORTS[name]
        if port_open(self.host, port):
            raise RuntimeError(f"port {port} for {name} is taken; stop whatever holds it")
        log = open(self.data / "logs" / f"{name}.log", "ab")  # noqa: SIM115
        self.procs[name] = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "uvicorn",
                f"{name}.main:create_app",
                "--factory",
                "--host",
                self.host,
                "--port",
                str(port),
                "--no-access-log",
            ],
            env=self.env,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        say(f"{name:<10} starting on http://{self.host}:{port}  (log: {self.log_path(name)})")

    async def wait_ready(self, timeout: float = 60.0) -> dict[str, object]:
        deadline = time.monotonic() + timeout
        last: dict[str, object] = {}
        async with httpx.AsyncClient(timeout=2.0) as client:
            while time.monotonic() < deadline:
                for name, proc in self.procs.items():
                    if proc.poll() is not None:
                        raise RuntimeError(
                            f"{name} exited ({proc.returncode}); see {self.log_path(name)}"
                        )
                with contextlib.suppress(httpx.HTTPError):
                    r = await client.get(f"http://{self.host}:{PORTS['gateway']}/readyz")
                    last = r.json()
                    if r.status_code == 200:
                        return last
                await asyncio.sleep(0.25)
        raise RuntimeError(f"platform not ready after {timeout:.0f}s: {last}")

    def stop(self) -> None:
        for proc in self.procs.values():
            if proc.poll() is None:
                proc.send_signal(signal.SIGTERM)
        for name, proc in self.procs.items():
            try:
                proc.wait(10)
            except subprocess.TimeoutExpired:
                say(f"{name} did not stop in time; killing it")
                proc.kill()
        self.procs.clear()
        if self.broker:
            self.broker.stop()


async def run(*, demo: bool = True) -> int:
    started = time.monotonic()
    data = data_dir()
    (data / "logs").mkdir(exist_ok=True)
    stack = Stack(data=data)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    try:
        await stack.start_infra()
        for name in (*SERVICES, "gateway"):
            stack.start_process(name)
        ready = await stack.wait_ready()
        say(f"all services ready in {time.monotonic() - started:.1f}s: {ready.get('checks')}")
        if demo:
            from stack.demo import load_demo

            await load_demo(stack.env["DATABASE_URL"], data, stack.env["ENROLLMENT_PII_KEY"])
        print_where(stack)
        await stop.wait()
        say("stopping …")
        return 0
    except RuntimeError as exc:
        say(f"error: {exc}")
        return 1
    finally:
        stack.stop()
        say("stopped")


def print_where(stack: Stack) -> None:
    g = f"http://{stack.host}:{PORTS['gateway']}"
    print(
        f"""
  Yanxiu is running.
    gateway      {g}            (API under {g}/api/v1/…)
    API docs     {g}/docs
    readiness    {g}/readyz
    services     {", ".join(f"{s} :{PORTS[s]}" for s in SERVICES)}
    logs         {stack.data / "logs"}
  Press Ctrl-C to stop everything.
""",
        flush=True,
    )
