"""Heartbeat benchmark (学习心跳): single heartbeats from many simulated teachers through the real
gateway (`POST /api/v1/learning/progress`) and directly on learning, side by side in the same run
with the write floor — `POST /heartbeat` of the shared floor app (/work/shared/floor/floor_app.py:
bare FastAPI + asyncpg, one INSERT per request, no gateway) — then a fixed rate of 1,000
heartbeats/s through the gateway and, for reference, the same rate against the floor.

The floor is the brief's own app, not a route of the platform, so that it cannot drift with the
platform's code: a platform route is judged by its ratio to it in one run (same machine, same
moment, same load generator, same number of connections). The learning service, the gateway and
the floor app run as real uvicorn processes (one each), learning on a fresh, migrated database
(embedded Tansu broker), the floor on a fresh database of its own on the same PostgreSQL server.
Every simulated teacher has an active plan and its own token and plays one 4-hour video at real
speed: a heartbeat claims the time since its previous one, so heartbeats are accepted. After the
runs every 2xx heartbeat is checked against the `accepted` rows of `learning.heartbeats`, and
every 2xx of the floor against the rows its table gained (an answered write is durable).

    .venv/bin/python -m bench.learning_heartbeats --seconds 15 --concurrency 64

Prints requests/s and p50/p99 ms for the heartbeat (through the gateway and direct) and the
write floor, both ratios to the floor, and p99 at the fixed rate for the gateway and the floor.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import statistics
import subprocess
import sys
import time
import uuid
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import asyncpg
import httpx
import uvloop
from sqlalchemy import insert

from learning.catalog.models import Course
from learning.models import Plan
from learning.rules import repository as rules_repo
from learning.rules.catalogue import shipped
from learning.rules.service import today_in_shanghai
from stack.migrate import migrate_all
from yanxiu.devstack.broker import TansuBroker, free_port, free_ports
from yanxiu.devstack.paths import data_dir
from yanxiu.devstack.postgres import create_database, drop_database, ensure_server
from yanxiu.kit.auth import Principal, Role, generate_keypair, issue_token
from yanxiu.kit.db import asyncpg_url, make_engine, make_session_factory, plain_url
from yanxiu.kit.readiness import fully_ready

SCHOOL = ("370000", "370100", "370102", "370102-B001")
VIDEO_SECONDS = 4 * 3600
# The brief's floor app, next to the repository: /work/main/bench/.. -> /work/shared/floor.
DEFAULT_FLOOR_DIR = Path(__file__).resolve().parents[1].parent / "shared" / "floor"
FLOOR_TABLE = "floor_heartbeat"  # created by floor_app.py's lifespan


def pct(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(p / 100 * (len(ordered) - 1)))]


# --- a minimal keep-alive HTTP/1.1 client: the load generator shares the 2 cores, so it must be
# --- cheaper than the servers it measures (httpx costs several times more per request).


class Connection:
    def __init__(self, host: str, port: int) -> None:
        self.host, self.port = host, port
        self.reader: asyncio.StreamReader | None = None
        self.writer: asyncio.StreamWriter | None = None

    async def connect(self) -> None:
        if self.writer is None:
            self.reader, self.writer = await asyncio.open_connection(self.host, self.port)

    async def post(self, path: str, token: str, body: bytes) -> tuple[int, bytes]:
        await self.connect()
        assert self.reader is not None and self.writer is not None
        head = (
            f"POST {path} HTTP/1.1\r\nHost: {self.host}:{self.port}\r\n"
            f"Authorization: Bearer {token}\r\nContent-Type: application/json\r\n"
            f"Content-Length: {len(body)}\r\n\r\n"
        ).encode()
        self.writer.write(head + body)
        status_line = await self.reader.readline()
        status = int(status_line.split(b" ", 2)[1])
        length, chunked = 0, False
        while True:
            line = await self.reader.readline()
            if line in (b"\r\n", b""):
                break
            name, _, value = line.partition(b":")
            name = name.strip().lower()
            if name == b"content-length":
                length = int(value)
            elif name == b"transfer-encoding" and b"chunked" in value.lower():
                chunked = True
        if not chunked:
            return status, await self.reader.readexactly(length)
        data = b""
        while True:
            size = int((await self.reader.readline()).strip(), 16)
            if size == 0:
                await self.reader.readline()
                return status, data
            data += await self.reader.readexactly(size)
            await self.reader.readline()

    def close(self) -> None:
        if self.writer is not None:
            self.writer.close()


@dataclass
class Teacher:
    id: uuid.UUID
    token: str
    number: int  # the floor's bigint teacher_id
    session: str = field(default_factory=lambda: f"bench-{uuid.uuid4().hex[:12]}")
    position: float = 0.0
    last: float | None = None

    def floor_write(self) -> bytes:
        """The floor's body ({teacher_id, course_id, position}, integers, as floor_app.py reads
        it); the floor never sees the playhead, so it does not move it."""
        return json.dumps(
            {"teacher_id": self.number, "course_id": 1, "position": int(self.position)}
        ).encode()

    def heartbeat(self, course_id: uuid.UUID, project_id: uuid.UUID) -> bytes:
        """The next heartbeat at real speed: it claims the time since the previous one."""
        now = time.monotonic()
        segments: list[list[float]] = []
        if self.last is not None:
            # Slightly under real time: the server measures from receipt, not from sending.
            played = max(0.0, (now - self.last) * 0.9)
            end = min(VIDEO_SECONDS, self.position + played)
            if end > self.position:
                segments = [[round(self.position, 3), round(end, 3)]]
            self.position = end
        self.last = now
        return self._body(course_id, project_id, segments)

    def _body(
        self, course_id: uuid.UUID, project_id: uuid.UUID, segments: list[list[float]]
    ) -> bytes:
        return json.dumps(
            {
                "course_id": str(course_id),
                "project_id": str(project_id),
                "device_session_id": self.session,
                "position": round(self.position, 3),
                "segments": segments,
                "client_at": datetime.now(UTC).isoformat(),
            }
        ).encode()


@dataclass
class Tally:
    latencies: list[float] = field(default_factory=list)
    statuses: dict[int, int] = field(default_factory=dict)
    elapsed: float = 0.0
    warmup_ok: int = 0  # 2xx of the uncounted warm-up (still checked for durability)
    rounds: list[float] = field(default_factory=list)  # requests/s of each round

    def add(self, status: int, ms: float) -> None:
        self.latencies.append(ms)
        self.statuses[status] = self.statuses.get(status, 0) + 1

    @property
    def rps(self) -> float:
        return len(self.latencies) / self.elapsed if self.elapsed else 0.0

    @property
    def ok(self) -> int:
        """Answered 2xx (the heartbeat answers 200, the floor 204), warm-up included."""
        return sum(n for s, n in self.statuses.items() if 200 <= s < 300) + self.warmup_ok

    def absorb(self, other: Tally) -> None:
        """Adds one round: latencies pooled, requests/s kept per round (the median is quoted)."""
        self.rounds.append(other.rps)
        self.latencies += other.latencies
        for status, n in other.statuses.items():
            self.statuses[status] = self.statuses.get(status, 0) + n
        self.elapsed += other.elapsed
        self.warmup_ok += other.warmup_ok

    def summary(self) -> dict[str, Any]:
        n = len(self.latencies)
        return {
            "requests": n,
            "rps": statistics.median(self.rounds) if self.rounds else self.rps,
            "p50_ms": statistics.median(self.latencies) if n else 0.0,
            "p99_ms": pct(self.latencies, 99) if n else 0.0,
            "statuses": dict(sorted(self.statuses.items())),
        }


@dataclass
class Target:
    host: str
    port: int
    path: str
    course_id: uuid.UUID
    project_id: uuid.UUID
    floor: bool = False  # the floor app's POST /heartbeat rather than the platform's

    def body(self, teacher: Teacher) -> bytes:
        if self.floor:
            return teacher.floor_write()
        return teacher.heartbeat(self.course_id, self.project_id)


async def closed_loop(
    target: Target, teachers: list[Teacher], *, concurrency: int, seconds: float
) -> Tally:
    """`concurrency` connections, each sending its next request as soon as the last returns;
    the teachers are shared out between the connections."""
    tally = Tally()
    stop_at = time.perf_counter() + seconds

    async def worker(mine: list[Teacher]) -> None:
        conn = Connection(target.host, target.port)
        i = 0
        try:
            while time.perf_counter() < stop_at:
                teacher = mine[i % len(mine)]
                i += 1
                body = target.body(teacher)
                t = time.perf_counter()
                status, _ = await conn.post(target.path, teacher.token, body)
                tally.add(status, (time.perf_counter() - t) * 1000)
        finally:
            conn.close()

    started = time.perf_counter()
    await asyncio.gather(*(worker(teachers[k::concurrency]) for k in range(concurrency)))
    tally.elapsed = time.perf_counter() - started
    return tally


async def warm_tokens(target: Target, teachers: list[Teacher], *, concurrency: int) -> None:
    """One heartbeat per teacher: each token is verified once and then remembered by the
    gateway and the service, as it is for a teacher who signed in and is learning."""

    async def worker(mine: list[Teacher]) -> None:
        conn = Connection(target.host, target.port)
        try:
            for teacher in mine:
                body = target.body(teacher)
                await conn.post(target.path, teacher.token, body)
        finally:
            conn.close()

    await asyncio.gather(*(worker(teachers[k::concurrency]) for k in range(concurrency)))


async def fixed_rate(
    target: Target,
    teachers: list[Teacher],
    *,
    rate: float,
    seconds: float,
    connections: int,
    warmup: float = 2.0,
    grace: float = 5.0,
) -> Tally:
    """Open loop: a request is due every 1/rate s whatever the answers; latency is measured
    from when it was due (no coordinated omission). Requests wait for a free connection; those
    still unanswered `grace` seconds after the last was due count as status 0 with their wait
    so far (a server slower than the rate would otherwise keep the run going for minutes).
    The first `warmup` seconds run at the same rate but are not counted: the figures are the
    steady state's."""
    tally = Tally()
    pool: asyncio.Queue[Connection] = asyncio.Queue()
    opened = [Connection(target.host, target.port) for _ in range(connections)]
    # Connected before the clock starts, as the many apps of a real load already are.
    await asyncio.gather(*(c.connect() for c in opened))
    for conn in opened:
        pool.put_nowait(conn)
    first = int(rate * warmup)  # the first request counted
    total = first + int(rate * seconds)
    started = time.perf_counter()
    tasks: dict[asyncio.Task[None], float] = {}

    async def one(k: int, due: float) -> None:
        teacher = teachers[k % len(teachers)]
        conn = await pool.get()
        try:
            body = target.body(teacher)
            status, _ = await conn.post(target.path, teacher.token, body)
            if k >= first:
                tally.add(status, (time.perf_counter() - due) * 1000)
            elif 200 <= status < 300:
                tally.warmup_ok += 1
        finally:
            pool.put_nowait(conn)

    for k in range(total):
        due = started + k / rate
        delay = due - time.perf_counter()
        if delay > 0:
            await asyncio.sleep(delay)
        tasks[asyncio.create_task(one(k, due))] = due
    _done, late = await asyncio.wait(tasks, timeout=grace)
    now = time.perf_counter()
    for task in late:
        task.cancel()
        if tasks[task] >= started + first / rate:
            tally.add(0, (now - tasks[task]) * 1000)
    await asyncio.gather(*late, return_exceptions=True)
    tally.elapsed = now - started - first / rate
    while not pool.empty():
        pool.get_nowait().close()
    return tally


async def seed(
    url: str, *, teachers: int, school: tuple[str, ...], video_seconds: int
) -> tuple[uuid.UUID, uuid.UUID, list[uuid.UUID]]:
    """One project with its learning window open, one course, `teachers` active plans."""
    project_id, course_id = uuid.uuid4(), uuid.uuid4()
    teacher_ids = [uuid.uuid4() for _ in range(teachers)]
    engine = make_engine(url, pool_size=2)
    try:
        async with make_session_factory(engine)() as session, session.begin():
            session.add(
                Course(
                    id=course_id,
                    code="BENCH-ETHICS",
                    title="师德师风建设（基准）",
                    kind="elective",
                    scope="general",
                    hours=2,
                    stages=["primary"],
                    subjects=[],
                    video_seconds=video_seconds,
                    pass_mark=60,
                    assessment=[{"id": "q1", "text": "?", "options": ["A"], "answer": "A"}],
                )
            )
            await session.flush()
            await open_learning_window(session, project_id)
            rows = [
                {
                    "id": uuid.uuid4(),
                    "teacher_id": t,
                    "project_id": project_id,
                    "registration_id": uuid.uuid4(),
                    "project_year": datetime.now(UTC).year,
                    "teacher_name": f"教师{i}",
                    "stage": "primary",
                    "subject": "语文",
                    "province_id": school[0],
                    "city_id": school[1],
                    "county_id": school[2],
                    "school_id": school[3],
                    "status": "active",
                }
                for i, t in enumerate(teacher_ids)
            ]
            for k in range(0, len(rows), 5000):
                await session.execute(insert(Plan), rows[k : k + 5000])
    finally:
        await engine.dispose()
    return project_id, course_id, teacher_ids


async def open_learning_window(session: Any, project_id: uuid.UUID) -> None:
    """The project runs under the shipped Shandong 2023 rules with every window open all year
    (the benchmark may run on any day); heartbeats are checked against them as always."""
    doc = shipped()["shandong-2023"].model_dump(mode="json")
    doc["windows"] = {w: {"opens": "01-01", "closes": "12-31"} for w in doc["windows"]}
    await rules_repo.put(
        session,
        project_id=project_id,
        year=today_in_shanghai().year,
        code="shandong-2023",
        ruleset=doc,
        assigned_by="bench",
    )


# --- the platform under test: fresh database, broker, learning and gateway as processes ---------


@contextlib.contextmanager
def servers(commands: list[tuple[str, list[str]]], env: dict[str, str]) -> Iterator[None]:
    """Runs `python -m uvicorn <args>` per (name, args), logging to the data dir's
    logs/bench-<name>.log; stops them (and only them) on the way out."""
    logs = data_dir() / "logs"
    logs.mkdir(parents=True, exist_ok=True)
    procs = []
    try:
        for name, args in commands:
            with open(logs / f"bench-{name}.log", "ab") as out:
                procs.append(
                    subprocess.Popen(
                        [sys.executable, "-m", "uvicorn", *args],
                        env=env,
                        stdout=out,
                        stderr=subprocess.STDOUT,
                        start_new_session=True,
                    )
                )
        yield
    finally:
        for p in procs:
            p.terminate()
        for p in procs:
            try:
                p.wait(15)
            except subprocess.TimeoutExpired:
                p.kill()


@contextlib.contextmanager
def processes(
    env: dict[str, str],
    *,
    learning_port: int,
    gateway_port: int,
    workers: int,
    gateway_workers: int,
) -> Iterator[None]:
    commands = [
        (
            name,
            [
                f"{name}.main:create_app",
                "--factory",
                "--host",
                "127.0.0.1",
                "--port",
                str(port),
                "--no-access-log",
                "--workers",
                str(n),
                "--log-level",
                "warning",
            ],
        )
        for name, port, n in (
            ("learning", learning_port, workers),
            ("gateway", gateway_port, gateway_workers),
        )
    ]
    with servers(commands, env):
        yield


async def wait_ready(url: str, timeout: float = 60, *, fully: bool = False) -> None:
    """Until `url` answers 200; `fully`: a /readyz whose every check is "ok" (the broker and the
    events too, yanxiu.kit.readiness), not only a process that serves."""
    deadline = time.monotonic() + timeout
    async with httpx.AsyncClient(timeout=2) as client:
        while time.monotonic() < deadline:
            with contextlib.suppress(httpx.HTTPError, ValueError):
                r = await client.get(url)
                if r.status_code == 200 and (not fully or fully_ready(r.json())):
                    return
            await asyncio.sleep(0.2)
    raise RuntimeError(f"{url} not ready after {timeout}s")


@contextlib.asynccontextmanager
async def platform(
    teachers: int, *, workers: int, gateway_workers: int, window_ms: float, pool_size: int
) -> AsyncIterator[tuple[dict[str, Target], list[Teacher], str]]:
    server, _how = await ensure_server(data_dir())
    name = f"yanxiu_bench_hb_{uuid.uuid4().hex[:6]}"
    url = asyncpg_url(await create_database(server, name))
    broker = TansuBroker()
    try:
        await migrate_all(url)
        private, public = generate_keypair()
        project_id, course_id, teacher_ids = await seed(
            url, teachers=teachers, school=SCHOOL, video_seconds=VIDEO_SECONDS
        )
        roster = [
            Teacher(
                id=t,
                number=i + 1,
                token=issue_token(
                    Principal(
                        user_id=f"u-{t.hex[:12]}",
                        role=Role.teacher,
                        org_path=SCHOOL,
                        name="基准教师",
                        teacher_id=str(t),
                    ),
                    private_key_pem=private,
                ),
            )
            for i, t in enumerate(teacher_ids)
        ]
        bootstrap = broker.start()
        learning_port, gateway_port = free_ports(2)
        env = {
            **os.environ,
            "DATABASE_URL": url,
            "KAFKA_BOOTSTRAP_SERVERS": bootstrap,
            "JWT_PUBLIC_KEY": public,
            "GATEWAY_JWT_PRIVATE_KEY": private,
            "GATEWAY_LEARNING_URL": f"http://127.0.0.1:{learning_port}",
            "GATEWAY_RATE_LIMIT_PER_SECOND": "100000",
            "GATEWAY_RATE_LIMIT_BURST": "100000",
            "LEARNING_PROGRESS_BATCH_WINDOW_MS": str(window_ms),
            "LOG_LEVEL": "WARNING",
            "DB_POOL_SIZE": str(pool_size),
        }
        with processes(
            env,
            learning_port=learning_port,
            gateway_port=gateway_port,
            workers=workers,
            gateway_workers=gateway_workers,
        ):
            await wait_ready(f"http://127.0.0.1:{learning_port}/healthz")
            await wait_ready(f"http://127.0.0.1:{gateway_port}/healthz")
            base = "/api/v1/learning"
            targets = {
                "heartbeat": Target(
                    "127.0.0.1", gateway_port, f"{base}/progress", course_id, project_id
                ),
                "heartbeat_direct": Target(
                    "127.0.0.1", learning_port, "/progress", course_id, project_id
                ),
            }
            yield targets, roster, url
    finally:
        broker.stop()
        await drop_database(server, name)


async def durable_rows(url: str) -> dict[str, int]:
    conn = await asyncpg.connect(plain_url(url))
    try:
        rows = await conn.fetch("SELECT outcome, count(*) AS n FROM learning.heartbeats GROUP BY 1")
    finally:
        await conn.close()
    return {r["outcome"]: int(r["n"]) for r in rows}


# --- the write floor: the brief's floor app, as its README starts it --------------------------


@contextlib.asynccontextmanager
async def floor_app(floor_dir: Path) -> AsyncIterator[tuple[Target, str]]:
    """floor_app.py as one uvicorn process (uvloop, httptools, log level warning, as the floor's
    README runs it) on a fresh database of its own on the platform's PostgreSQL server, dropped
    afterwards; yields its `POST /heartbeat` target and the database's URL."""
    if not (floor_dir / "floor_app.py").is_file():
        raise FileNotFoundError(f"no floor_app.py in {floor_dir} (see --floor-dir)")
    server, _how = await ensure_server(data_dir())
    name = f"yanxiu_bench_floor_{uuid.uuid4().hex[:6]}"
    dsn = plain_url(await create_database(server, name))
    port = free_port()
    args = [
        "--app-dir",
        str(floor_dir),
        "floor_app:app",
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
        "--loop",
        "uvloop",
        "--http",
        "httptools",
        "--log-level",
        "warning",
    ]
    try:
        with servers([("floor", args)], {**os.environ, "FLOOR_DSN": dsn}):
            # Ready once its lifespan has created the table and its first row.
            await wait_ready(f"http://127.0.0.1:{port}/heartbeat/1")
            # The course and project are the platform's; the floor's body does not carry them.
            unused = uuid.UUID(int=0)
            yield Target("127.0.0.1", port, "/heartbeat", unused, unused, floor=True), dsn
    finally:
        await drop_database(server, name)


async def floor_rows(dsn: str) -> int:
    conn = await asyncpg.connect(dsn)
    try:
        return int(await conn.fetchval(f"SELECT count(*) FROM {FLOOR_TABLE}"))
    finally:
        await conn.close()


def _ratios(top: Tally, floor: Tally) -> tuple[float, list[float]]:
    """The median rounds' ratio, and each round's."""
    overall = top.summary()["rps"] / max(floor.summary()["rps"], 1e-9)
    return overall, [h / max(f, 1e-9) for h, f in zip(top.rounds, floor.rounds, strict=True)]


async def bench(
    *,
    teachers: int = 2000,
    concurrency: int = 64,
    seconds: float = 10.0,
    rate: float = 1000.0,
    rate_seconds: float = 10.0,
    rate_connections: int = 256,
    rounds: int = 3,
    workers: int = 1,
    gateway_workers: int = 1,
    window_ms: float = 2.0,
    pool_size: int = 40,
    floor_dir: Path = DEFAULT_FLOOR_DIR,
) -> dict[str, Any]:
    async with (
        platform(
            teachers,
            workers=workers,
            gateway_workers=gateway_workers,
            window_ms=window_ms,
            pool_size=pool_size,
        ) as (targets, roster, url),
        floor_app(floor_dir) as (floor_target, floor_dsn),
    ):
        hb = targets["heartbeat"]
        # Warm up every side (connections, compiled statements, every teacher's token seen
        # once, as after sign-in), then measure.
        await closed_loop(floor_target, roster, concurrency=min(concurrency, 8), seconds=1)
        await warm_tokens(hb, roster, concurrency=concurrency)
        await warm_tokens(targets["heartbeat_direct"], roster, concurrency=concurrency)
        before, floor_before = await durable_rows(url), await floor_rows(floor_dsn)
        # Side by side, with the same client and connections: the sides take turns, round after
        # round, so a slow spell of the shared machine falls on all of them; the median round
        # is quoted.
        sides = {
            "floor": floor_target,
            "heartbeat": hb,
            "heartbeat_direct": targets["heartbeat_direct"],
        }
        tallies = {key: Tally() for key in sides}
        for _ in range(rounds):
            for key, target in sides.items():
                tallies[key].absorb(
                    await closed_loop(
                        target, roster, concurrency=concurrency, seconds=seconds / rounds
                    )
                )
        steady = await fixed_rate(
            hb, roster, rate=rate, seconds=rate_seconds, connections=rate_connections
        )
        steady_floor = await fixed_rate(
            floor_target, roster, rate=rate, seconds=rate_seconds, connections=rate_connections
        )
        after, floor_after = await durable_rows(url), await floor_rows(floor_dsn)
    heart, direct, floor = tallies["heartbeat"], tallies["heartbeat_direct"], tallies["floor"]
    ratio, round_ratios = _ratios(heart, floor)
    ratio_direct, round_ratios_direct = _ratios(direct, floor)
    answered_ok = heart.ok + direct.ok + steady.ok
    stored_ok = after.get("accepted", 0) - before.get("accepted", 0)
    floor_ok = floor.ok + steady_floor.ok
    stored_floor = floor_after - floor_before
    return {
        "teachers": teachers,
        "concurrency": concurrency,
        "workers": workers,
        "gateway_workers": gateway_workers,
        "floor_app": str(floor_dir / "floor_app.py"),
        "floor": floor.summary(),
        "heartbeat": heart.summary(),
        "heartbeat_direct": direct.summary(),
        "fixed_rate": {**steady.summary(), "target_rps": rate},
        "fixed_rate_floor": {**steady_floor.summary(), "target_rps": rate},
        "ratio": ratio,
        "round_ratios": round_ratios,
        "ratio_direct": ratio_direct,
        "round_ratios_direct": round_ratios_direct,
        "accepted_answered": answered_ok,
        "accepted_stored": stored_ok,
        "floor_answered": floor_ok,
        "floor_stored": stored_floor,
        "durable": stored_ok >= answered_ok and stored_floor >= floor_ok,
    }


def report(r: dict[str, Any]) -> list[str]:
    """The printed summary, one line per string."""
    lines = [
        f"heartbeats: {r['teachers']:,} teachers, {r['concurrency']} connections, "
        f"learning ×{r['workers']}, gateway ×{r['gateway_workers']}; "
        f"write floor: {r['floor_app']} ×1",
        f"  {'endpoint':<42}{'req/s':>9}{'p50 ms':>9}{'p99 ms':>9}  statuses",
    ]
    f, ff = r["fixed_rate"], r["fixed_rate_floor"]
    for label, s in (
        ("write floor: POST /heartbeat (1 INSERT)", r["floor"]),
        ("gateway: POST /progress", r["heartbeat"]),
        ("direct on learning: POST /progress", r["heartbeat_direct"]),
        (f"gateway: POST /progress at {int(f['target_rps'])}/s", f),
        (f"write floor: POST /heartbeat at {int(ff['target_rps'])}/s", ff),
    ):
        figures = f"{s['rps']:>9.0f}{s['p50_ms']:>9.1f}{s['p99_ms']:>9.1f}"
        lines.append(f"  {label:<42}{figures}  {s['statuses']}")

    def each(ratios: list[float]) -> str:
        return ", ".join(f"{x:.2f}×" for x in ratios)

    def verdict(ok: bool) -> str:
        return "OK" if ok else "BELOW TARGET"

    lines += [
        f"  heartbeat via gateway / write floor: {r['ratio']:.2f}× (target ≥ 1.5×, "
        f"{verdict(r['ratio'] >= 1.5)}; median rounds, each round {each(r['round_ratios'])})",
        f"  heartbeat direct on learning / write floor: {r['ratio_direct']:.2f}× "
        f"(each round {each(r['round_ratios_direct'])})",
        f"  p99 at {int(f['target_rps'])}/s through the gateway: {f['p99_ms']:.1f} ms "
        f"(target < 100 ms, {verdict(f['p99_ms'] < 100)}); write floor at the same rate: "
        f"{ff['p99_ms']:.1f} ms",
        f"  durable: {r['accepted_stored']:,} accepted rows for {r['accepted_answered']:,} 2xx "
        f"heartbeats; {r['floor_stored']:,} new floor rows for {r['floor_answered']:,} 2xx floor "
        f"writes {'OK' if r['durable'] else 'MISSING ROWS'}",
    ]
    return lines


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--teachers", type=int, default=2000)
    parser.add_argument("--concurrency", type=int, default=64)
    parser.add_argument("--seconds", type=float, default=15.0)
    parser.add_argument(
        "--rounds", type=int, default=3, help="turns of the endpoints in the --seconds"
    )
    parser.add_argument("--rate", type=float, default=1000.0)
    parser.add_argument("--rate-seconds", type=float, default=15.0)
    parser.add_argument(
        "--rate-connections",
        type=int,
        default=256,
        help="connections of the fixed-rate runs (many apps, each with its own)",
    )
    parser.add_argument("--workers", type=int, default=1, help="uvicorn workers of learning")
    parser.add_argument("--gateway-workers", type=int, default=1)
    parser.add_argument("--window-ms", type=float, default=2.0)
    parser.add_argument("--pool-size", type=int, default=40, help="DB pool of each process")
    parser.add_argument(
        "--floor-dir",
        type=Path,
        default=DEFAULT_FLOOR_DIR,
        help="directory of the shared floor app (floor_app.py)",
    )
    args = parser.parse_args()
    if not (args.floor_dir / "floor_app.py").is_file():
        parser.error(f"no floor_app.py in {args.floor_dir}")
    r = uvloop.run(
        bench(
            teachers=args.teachers,
            concurrency=args.concurrency,
            seconds=args.seconds,
            rate=args.rate,
            rate_seconds=args.rate_seconds,
            rate_connections=args.rate_connections,
            rounds=args.rounds,
            workers=args.workers,
            gateway_workers=args.gateway_workers,
            window_ms=args.window_ms,
            pool_size=args.pool_size,
            floor_dir=args.floor_dir.resolve(),
        )
    )
    print("\n".join(report(r)))


if __name__ == "__main__":
    main()
