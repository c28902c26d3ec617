"""`yanxiu run`: PostgreSQL, broker, migrations, the four services and the gateway, demo data;
clear progress on the console; a crashed process restarted (stack.supervisor); a clean stop on
Ctrl-C or SIGTERM, and no process left behind however `yanxiu run` or its parent ends."""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import subprocess
import sys
import time
from collections.abc import Coroutine
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

from stack.keys import ensure_local_secrets
from stack.migrate import migrate_all
from stack.supervisor import Child, Supervisor, how_it_ended
from yanxiu.devstack.broker import TansuBroker, port_open
from yanxiu.devstack.lifeline import die_with_parent, guarded, postmaster_pid, warden_argv
from yanxiu.devstack.paths import PORTS, SERVICES, data_dir
from yanxiu.devstack.postgres import create_database, database_name, ensure_server
from yanxiu.kit.db import asyncpg_url
from yanxiu.kit.readiness import fully_ready


def say(msg: str) -> None:
    print(f"[yanxiu {time.strftime('%H:%M:%S')}] {msg}", flush=True)


@dataclass
class Stack:
    data: Path
    host: str = "127.0.0.1"
    supervisor: Supervisor = field(default_factory=lambda: Supervisor(say=say))
    env: dict[str, str] = field(default_factory=dict)
    # The warden of an embedded PostgreSQL this run started (a server found running is left
    # alone): it stops that server when `yanxiu run` ends, however it ends.
    warden: subprocess.Popen[bytes] | None = None

    async def start_infra(self) -> None:
        pgdata = self.data / "postgres"
        already_running = postmaster_pid(pgdata) is not None
        server, how = await ensure_server(self.data)
        if how.startswith("embedded") and not already_running:
            self.guard_postgres(pgdata)
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
            broker = TansuBroker(port=port, log_file=self.log_path("tansu"), die_with_us=True)

            def start_broker() -> subprocess.Popen[bytes]:
                broker.start()
                assert broker.proc is not None
                return broker.proc

            self.supervisor.add(
                Child(
                    name="broker", start=start_broker, port=broker.port, log=self.log_path("tansu")
                )
            )
            bootstrap = broker.bootstrap
            say(f"broker: embedded Tansu (in memory; restarted empty if it dies) at {bootstrap}")
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
            # Enrollment's reconciliation (核对) reads the other services' rosters.
            **{
                f"ENROLLMENT_{s.upper()}_URL": f"http://{self.host}:{PORTS[s]}"
                for s in ("learning", "credits", "lessons", "insights")
            },
            # The dashboards label orgs with the names enrollment serves.
            "INSIGHTS_ENROLLMENT_URL": f"http://{self.host}:{PORTS['enrollment']}",
            # Links handed out (certificates) point at the gateway, wherever the offset puts it.
            "CREDITS_PUBLIC_BASE_URL": os.environ.get(
                "CREDITS_PUBLIC_BASE_URL",
                f"http://{self.host}:{PORTS['gateway']}/api/v1/credits",
            ),
        }

    def guard_postgres(self, pgdata: Path) -> None:
        self.warden = subprocess.Popen(warden_argv(pgdata), start_new_session=True)

    def log_path(self, name: str) -> Path:
        return self.data / "logs" / f"{name}.log"

    def start_process(self, name: str) -> None:
        port = PORTS[name]
        if port_open(self.host, port):
            raise RuntimeError(f"port {port} for {name} is taken; stop whatever holds it")

        def start() -> subprocess.Popen[bytes]:
            log = open(self.log_path(name), "ab")  # noqa: SIM115 (the child holds it)
            with log:
                return subprocess.Popen(
                    guarded(
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
                            # Open requests get this long on a stop; the lifespan's own steps
                            # are bounded too (yanxiu.kit.app.STOP_TIMEOUT).
                            "--timeout-graceful-shutdown",
                            "5",
                        ]
                    ),
                    env=self.env,
                    stdout=log,
                    stderr=subprocess.STDOUT,
                    # Out of the terminal's process group: Ctrl-C reaches `yanxiu run` alone,
                    # which then stops the services in order.
                    start_new_session=True,
                )

        self.supervisor.add(
            Child(
                name=name,
                start=start,
                port=port,
                ready_url=f"http://{self.host}:{port}/readyz",
                log=self.log_path(name),
            )
        )
        say(f"{name:<10} starting on http://{self.host}:{port}  (log: {self.log_path(name)})")

    async def wait_ready(self, timeout: float = 60.0) -> dict[str, object]:
        """Until the gateway's /readyz has every check "ok": each service serving, connected
        to the broker and delivering its events. A 200 alone would come as soon as the gateway
        serves (yanxiu.kit.readiness), before the platform is fully up."""
        deadline = time.monotonic() + timeout
        last: dict[str, object] = {}
        async with httpx.AsyncClient(timeout=2.0) as client:
            while time.monotonic() < deadline:
                for name, code in self.supervisor.exited():
                    raise RuntimeError(
                        f"{name} {how_it_ended(code)} while starting; see {self.log_path(name)}"
                    )
                with contextlib.suppress(httpx.HTTPError):
                    r = await client.get(f"http://{self.host}:{PORTS['gateway']}/readyz")
                    last = r.json()
                    if r.status_code == 200 and fully_ready(last):
                        return last
                await asyncio.sleep(0.25)
        raise RuntimeError(f"platform not ready after {timeout:.0f}s: {last}")

    def stop(self) -> None:
        """Gateway and services first (they drain into the broker and the database), then the
        broker, then an embedded PostgreSQL this run started."""
        self.supervisor.stop(["gateway", *SERVICES])
        self.supervisor.stop(["broker"])
        if self.warden is not None:
            self.warden.send_signal(signal.SIGTERM)
            try:
                self.warden.wait(30)
            except subprocess.TimeoutExpired:
                self.warden.kill()
            self.warden = None


async def run(*, demo: bool = True) -> int:
    # Whatever started `yanxiu run` (make, a shell, a test) owns it: if that parent is killed,
    # even with SIGKILL, the SIGTERM below arrives and everything stops cleanly.
    die_with_parent(signal.SIGTERM, parent=os.getppid())
    started = time.monotonic()
    data = data_dir()
    (data / "logs").mkdir(exist_ok=True)
    stack = Stack(data=data)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
        loop.add_signal_handler(sig, stop.set)

    async def start() -> None:
        await stack.start_infra()
        for name in (*SERVICES, "gateway"):
            stack.start_process(name)
        ready = await stack.wait_ready()
        say(f"all services ready in {time.monotonic() - started:.1f}s: {ready.get('checks')}")

    watching: asyncio.Task[None] | None = None
    try:
        if await unless_stopped(start(), stop):
            watching = asyncio.create_task(stack.supervisor.watch(stop))
            if demo:
                from stack.demo import load_demo

                env = stack.env
                await unless_stopped(
                    load_demo(env["DATABASE_URL"], data, env["ENROLLMENT_PII_KEY"]), stop
                )
            if not stop.is_set():
                print_where(stack)
        await stop.wait()
        say("stopping …")
        return 0
    except RuntimeError as exc:
        say(f"error: {exc}")
        return 1
    finally:
        stop.set()
        if watching is not None:
            await watching
        stack.stop()
        say("stopped")


async def unless_stopped(work: Coroutine[Any, Any, Any], stop: asyncio.Event) -> bool:
    """Runs `work` to its end, unless `stop` comes first (a Ctrl-C while starting): then it is
    cancelled. True if it ended by itself (its error, if any, is raised)."""
    task = asyncio.ensure_future(work)
    waiter = asyncio.ensure_future(stop.wait())
    try:
        await asyncio.wait({task, waiter}, return_when=asyncio.FIRST_COMPLETED)
    finally:
        waiter.cancel()
    if task.done():
        task.result()
        return True
    task.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await task
    return False


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


def serve_broker(port: int) -> int:
    """`yanxiu broker`: the embedded broker in the foreground, for a service run alone."""
    if port_open("127.0.0.1", port):
        say(f"port {port} is taken: a broker may be running there already")
        return 1
    broker = TansuBroker(port=port, die_with_us=True)
    bootstrap = broker.start()
    say(f"embedded Tansu (in memory) at {bootstrap}; Ctrl-C stops it")
    stopped = False

    def stop(*_: object) -> None:
        nonlocal stopped
        stopped = True

    for sig in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
        signal.signal(sig, stop)
    try:
        while not stopped and broker.proc is not None and broker.proc.poll() is None:
            time.sleep(0.2)
    finally:
        code = broker.proc.returncode if broker.proc is not None else None
        broker.stop()
    if not stopped:
        say(f"the broker {how_it_ended(code or 0)}")
        return 1
    say("stopped")
    return 0
