"""`yanxiu run` (behind `make run`): every process ready within 30 s, clean stop on Ctrl-C."""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import BinaryIO

import httpx

from yanxiu.devstack.broker import port_open
from yanxiu.devstack.paths import repo_root
from yanxiu.kit.readiness import fully_ready

OFFSET = 23000


async def test_run_answers_ready_within_30_seconds_and_stops_cleanly_on_ctrl_c(
    database_url: str, broker: str, tmp_path: Path
) -> None:
    env = {
        **os.environ,
        "DATABASE_URL": database_url,
        "KAFKA_BOOTSTRAP_SERVERS": broker,
        "KAFKA_TOPIC_PREFIX": f"run{os.getpid()}.",
        "YANXIU_PORT_OFFSET": str(OFFSET),
        "YANXIU_DATA": str(tmp_path),
        "KAFKA_FETCH_MAX_WAIT_MS": "10",
        "KAFKA_SESSION_TIMEOUT_MS": "2000",
    }
    for key in ("JWT_PUBLIC_KEY_FILE", "GATEWAY_JWT_PRIVATE_KEY_FILE", "ENROLLMENT_PII_KEY"):
        env.pop(key, None)
    started = time.monotonic()
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "stack.cli",
        "run",
        cwd=repo_root(),
        env=env,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
    )
    gateway = f"http://127.0.0.1:{8000 + OFFSET}"
    try:
        ready = None
        async with httpx.AsyncClient(timeout=2) as client:
            while time.monotonic() - started < 30 and proc.returncode is None:
                try:
                    r = await client.get(f"{gateway}/readyz")
                    # Fully up: a 200 alone says only that the gateway serves.
                    if r.status_code == 200 and fully_ready(r.json()):
                        ready = r.json()
                        break
                except httpx.HTTPError:
                    pass
                await asyncio.sleep(0.2)
        assert ready is not None, "gateway /readyz was not all ok within 30 s"
        assert set(ready["checks"]) >= {"enrollment", "learning", "credits", "lessons"}
        assert all(v == "ok" for v in ready["checks"].values())
        # Demo data is loaded next, its logins saved outside the repository.
        deadline = time.monotonic() + 20
        while not (tmp_path / "demo-accounts.txt").exists() and time.monotonic() < deadline:
            await asyncio.sleep(0.2)
        assert "province_admin" in (tmp_path / "demo-accounts.txt").read_text()
    finally:
        proc.send_signal(signal.SIGINT)
        out, _ = await asyncio.wait_for(proc.communicate(), 30)
    text = out.decode()
    assert proc.returncode == 0, text
    assert "stopped" in text
    for port in (8000, 8101, 8102, 8103, 8104):
        assert not port_open("127.0.0.1", port + OFFSET), f"port {port + OFFSET} still open"


# --- supervision: restarts, and no orphans however `yanxiu run` or its parent ends ---------

SUPERVISED_OFFSET = 24000


def descendants(pid: int) -> set[int]:
    """Every live process below `pid` (from /proc: these tests run on Linux, as the parent-
    death signal they check is Linux's)."""
    parents: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        ppid = int(stat.rsplit(")", 1)[1].split()[1])
        parents.setdefault(ppid, []).append(int(entry.name))
    found: set[int] = set()
    todo = [pid]
    while todo:
        for child in parents.get(todo.pop(), []):
            if child not in found:
                found.add(child)
                todo.append(child)
    return found


def alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"  # a zombie has ended; only its parent's wait is missing


def cmdline(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode()
    except OSError:
        return ""


class Console:
    """A `yanxiu run` (or its parent) as a subprocess, its console read as it comes."""

    def __init__(self, proc: asyncio.subprocess.Process) -> None:
        self.proc = proc
        self.lines: list[str] = []
        self.reader = asyncio.create_task(self._read())

    async def _read(self) -> None:
        assert self.proc.stdout is not None
        async for raw in self.proc.stdout:
            self.lines.append(raw.decode(errors="replace").rstrip())

    @property
    def text(self) -> str:
        return "\n".join(self.lines)

    async def wait_for(self, fragment: str, timeout: float = 30.0) -> str:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            for line in self.lines:
                if fragment in line:
                    return line
            if self.reader.done():
                break
            await asyncio.sleep(0.1)
        raise AssertionError(f"{fragment!r} not on the console:\n{self.text}")


def run_env(database_url: str, tmp_path: Path, offset: int) -> dict[str, str]:
    env = {
        **os.environ,
        "DATABASE_URL": database_url,
        "YANXIU_PORT_OFFSET": str(offset),
        "YANXIU_DATA": str(tmp_path),
        "KAFKA_SESSION_TIMEOUT_MS": "2000",
    }
    # No KAFKA_BOOTSTRAP_SERVERS: `yanxiu run` starts (and must stop) its own broker.
    for key in (
        "KAFKA_BOOTSTRAP_SERVERS",
        "JWT_PUBLIC_KEY_FILE",
        "GATEWAY_JWT_PRIVATE_KEY_FILE",
        "ENROLLMENT_PII_KEY",
    ):
        env.pop(key, None)
    return env


async def wait_ready(url: str, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    async with httpx.AsyncClient(timeout=2) as client:
        while time.monotonic() < deadline:
            try:
                if (await client.get(url)).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            await asyncio.sleep(0.2)
    raise AssertionError(f"{url} not ready within {timeout:.0f}s")


async def all_gone(pids: set[int], ports: list[int], timeout: float) -> float:
    """Seconds until every pid has ended and every port is closed; fails after `timeout`."""
    started = time.monotonic()
    while time.monotonic() - started < timeout:
        if not any(alive(p) for p in pids) and not any(port_open("127.0.0.1", p) for p in ports):
            return time.monotonic() - started
        await asyncio.sleep(0.1)
    left = {p: cmdline(p) for p in pids if alive(p)}
    raise AssertionError(f"still running after {timeout:.0f}s: {left}; open ports: {ports}")


def broker_port(console: Console) -> int:
    line = next(x for x in console.lines if "embedded Tansu" in x)
    return int(line.rsplit(":", 1)[1])


async def test_a_killed_service_is_restarted_and_nothing_outlives_a_killed_run(
    database_url: str, tmp_path: Path
) -> None:
    offset = SUPERVISED_OFFSET
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "stack.cli",
        "run",
        "--no-demo",
        cwd=repo_root(),
        env=run_env(database_url, tmp_path, offset),
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
    )
    console = Console(proc)
    learning = f"http://127.0.0.1:{8102 + offset}"
    try:
        # Supervision starts once the platform is up (a crash while starting is an error).
        await console.wait_for("all services ready", timeout=40)
        children = descendants(proc.pid)
        victim = next(p for p in children if "learning.main:create_app" in cmdline(p))
        os.kill(victim, signal.SIGKILL)
        await console.wait_for("learning killed by SIGKILL")
        await console.wait_for("learning is back", timeout=30)
        await wait_ready(f"{learning}/readyz", timeout=5)
        after = descendants(proc.pid)
        assert victim not in after
        assert any("learning.main:create_app" in cmdline(p) for p in after)

        # Now `yanxiu run` itself dies without a chance to clean up.
        ports = [p + offset for p in (8000, 8101, 8102, 8103, 8104)] + [broker_port(console)]
        os.kill(proc.pid, signal.SIGKILL)
        took = await all_gone(after, ports, timeout=15)
        print(f"every child of a SIGKILLed `yanxiu run` gone after {took:.2f}s")
    finally:
        if proc.returncode is None:
            proc.kill()
        await proc.wait()
        await console.reader


async def test_nothing_outlives_a_killed_parent_of_run(database_url: str, tmp_path: Path) -> None:
    """`make run` killed with SIGKILL: `yanxiu run` below it stops everything, cleanly."""
    offset = SUPERVISED_OFFSET + 100
    # A shell that does not exec its command stands for make: `yanxiu run`'s parent.
    parent = await asyncio.create_subprocess_exec(
        "/bin/sh",
        "-c",
        f'"{sys.executable}" -m stack.cli run --no-demo; exit $?',
        cwd=repo_root(),
        env=run_env(database_url, tmp_path, offset),
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
    )
    console = Console(parent)
    try:
        await console.wait_for("all services ready", timeout=40)
        everything = descendants(parent.pid)
        assert any("stack.cli run" in cmdline(p) for p in everything)
        ports = [p + offset for p in (8000, 8101, 8102, 8103, 8104)] + [broker_port(console)]
        os.kill(parent.pid, signal.SIGKILL)
        took = await all_gone(everything, ports, timeout=20)
        print(f"everything below a SIGKILLed parent of `yanxiu run` gone after {took:.2f}s")
        # The console (the pipe the shell shared with `yanxiu run`) shows a clean stop.
        await asyncio.wait_for(console.reader, 5)
        assert "stopping" in console.text and "stopped" in console.text, console.text
    finally:
        if parent.returncode is None:
            parent.kill()
        await parent.wait()
        await console.reader


EMBEDDED_PARENT = """
import sys, time
from pathlib import Path
from stack.run import Stack
from yanxiu.devstack.postgres import start_embedded

data = Path(sys.argv[1])
url = start_embedded(data)
Stack(data=data).guard_postgres(data / "postgres")
print(url, flush=True)
time.sleep(600)
"""


async def test_an_embedded_postgres_it_started_stops_when_run_is_killed(tmp_path: Path) -> None:
    """The embedded server is started detached (pg_ctl); its warden stops it when the process
    that started it dies, even by SIGKILL."""
    from yanxiu.devstack.lifeline import postmaster_pid

    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        "-c",
        EMBEDDED_PARENT,
        str(tmp_path),
        cwd=repo_root(),
        stdout=asyncio.subprocess.PIPE,
    )
    try:
        assert proc.stdout is not None
        line = await asyncio.wait_for(proc.stdout.readline(), 60)
        assert line.startswith(b"postgresql://"), line
        server = postmaster_pid(tmp_path / "postgres")
        assert server is not None
        os.kill(proc.pid, signal.SIGKILL)
        took = await all_gone({server}, [], timeout=20)
        print(f"embedded PostgreSQL stopped {took:.2f}s after its starter was killed")
    finally:
        if proc.returncode is None:
            proc.kill()
        await proc.wait()


# --- the README's "Running one service alone", as written ------------------------------------


def readme_recipe() -> list[str]:
    text = (repo_root() / "README.md").read_text()
    block = text.split("## Running one service alone", 1)[1].split("```sh\n", 1)[1]
    lines = block.split("```", 1)[0].splitlines()
    return [line.split("  #", 1)[0].strip() for line in lines if line.strip()]


def open_log(path: Path) -> BinaryIO:
    return path.open("wb")


def tails(folder: Path) -> str:
    return "\n".join(p.read_text()[-2000:] for p in sorted(folder.glob("step*.log")))


async def test_the_readme_recipe_for_one_service_alone_works_as_written(
    database_url: str, tmp_path: Path
) -> None:
    from yanxiu.devstack.broker import free_port
    from yanxiu.devstack.postgres import database_name, drop_database, with_database

    # The recipe's database does not exist yet: `yanxiu migrate` must create it.
    fresh = f"{database_name(database_url)}_alone"
    swaps = {
        "postgresql+asyncpg://postgres@127.0.0.1:5432/yanxiu": with_database(database_url, fresh),
        "9092": str(free_port()),
        "8102": str(free_port()),
        ".data/": f"{tmp_path}/",
    }
    env = {**os.environ, "YANXIU_DATA": str(tmp_path)}
    for key in ("DATABASE_URL", "KAFKA_BOOTSTRAP_SERVERS", "JWT_PUBLIC_KEY_FILE"):
        env.pop(key, None)
    background: list[asyncio.subprocess.Process] = []
    steps = readme_recipe()
    assert steps[0].startswith("make install"), steps  # done: this test runs in that venv
    try:
        for step in steps[1:]:
            for old, new in swaps.items():
                step = step.replace(old, new)
            if step.startswith("export "):
                env.update(pair.split("=", 1) for pair in step.split()[1:])  # type: ignore[misc]
                continue
            argv = step.rstrip("&").split()
            if step.endswith("&") or argv[0].endswith("uvicorn"):
                with open_log(tmp_path / f"step{len(background)}.log") as log:
                    background.append(
                        await asyncio.create_subprocess_exec(
                            *argv, cwd=repo_root(), env=env, stdout=log, stderr=log
                        )
                    )
                continue
            done = await asyncio.create_subprocess_exec(
                *argv, cwd=repo_root(), env=env, stdout=asyncio.subprocess.PIPE
            )
            out, _ = await asyncio.wait_for(done.communicate(), 120)
            assert done.returncode == 0, f"{step}: {out.decode()}"
        async with httpx.AsyncClient(timeout=2) as client:
            base = f"http://127.0.0.1:{swaps['8102']}"
            deadline = time.monotonic() + 40
            ready = None
            while time.monotonic() < deadline and ready is None:
                with contextlib.suppress(httpx.HTTPError):
                    r = await client.get(f"{base}/readyz")
                    if r.status_code == 200 and fully_ready(r.json()):
                        ready = r.json()
                await asyncio.sleep(0.2)
            assert ready is not None, tails(tmp_path)
            assert ready["status"] == "ok", ready
            assert ready["checks"]["database"] == ready["checks"]["broker"] == "ok", ready
    finally:
        for proc in reversed(background):
            if proc.returncode is None:
                proc.send_signal(signal.SIGINT)
            await asyncio.wait_for(proc.wait(), 20)
        await drop_database(with_database(database_url, "postgres"), fresh)


async def test_a_process_that_keeps_dying_is_restarted_after_a_doubling_pause_up_to_a_cap() -> None:
    from stack.supervisor import Child, Supervisor
    from yanxiu.devstack.broker import free_port

    said: list[str] = []
    supervisor = Supervisor(say=said.append, first_delay=0.1, max_delay=0.4, stable_after=60)

    def start() -> subprocess.Popen[bytes]:
        return subprocess.Popen([sys.executable, "-c", "raise SystemExit(3)"])

    supervisor.add(Child(name="crasher", start=start, port=free_port()))
    stop = asyncio.Event()
    watching = asyncio.create_task(supervisor.watch(stop))
    deadline = time.monotonic() + 20
    while len([s for s in said if "restarting" in s]) < 5 and time.monotonic() < deadline:
        await asyncio.sleep(0.05)
    stop.set()
    await watching
    supervisor.stop(["crasher"])
    pauses = [s.split("restarting in ")[1].split("s ")[0] for s in said if "restarting" in s]
    assert pauses[:5] == ["0.1", "0.2", "0.4", "0.4", "0.4"], said
    assert all("crasher exited with code 3" in s for s in said if "restarting" in s), said


async def test_ctrl_c_while_starting_stops_everything_at_once(
    database_url: str, tmp_path: Path
) -> None:
    offset = SUPERVISED_OFFSET + 200
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "stack.cli",
        "run",
        cwd=repo_root(),
        env=run_env(database_url, tmp_path, offset),
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
    )
    console = Console(proc)
    try:
        await console.wait_for("gateway    starting", timeout=40)
        children = descendants(proc.pid)
        port = broker_port(console)
        proc.send_signal(signal.SIGINT)
        await asyncio.wait_for(proc.wait(), 20)
        await console.reader
        assert proc.returncode == 0, console.text
        assert "stopped" in console.text and "all services ready" not in console.text
        ports = [p + offset for p in (8000, 8101, 8102, 8103, 8104)] + [port]
        await all_gone(children, ports, timeout=5)
    finally:
        if proc.returncode is None:
            proc.kill()
            await proc.wait()
