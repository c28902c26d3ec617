"""The whole platform, side by side with the floor, for the route benchmarks (bench.api_paths,
bench.deadline_day): in one run, a fresh database with every service's migrations, the embedded
Tansu broker, enrollment, learning, credits, lessons, insights and the gateway as real uvicorn
processes (one each, uvloop + httptools, no access log, LOG_LEVEL=WARNING), seeded at `teachers`
teachers (bench.seeding), and the floor — /work/shared/floor/floor_app.py, bare FastAPI +
asyncpg, one statement per request — as one more uvicorn process on its own database `floor`.

What differs from a production configuration, so that the benchmark measures the routes and
not the guards in front of them, is listed in `Platform.settings` and printed with every result:
the gateway's per-caller rate limit is off (one bench token makes hundreds of requests a second)
and its token age limit is 24 h (tokens are minted at setup, before a long load may end).

    .venv/bin/python -m bench.platform --teachers 10000     # set up, print where, wait for ^C
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import secrets
import shutil
import signal
import sys
import tempfile
import time
import uuid
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from pathlib import Path

import uvloop

from bench.learning_heartbeats import servers, wait_ready
from bench.seeding import Placed, Seeded, seed
from stack.migrate import migrate_all
from yanxiu.devstack.broker import TansuBroker, free_ports
from yanxiu.devstack.paths import SERVICES, data_dir
from yanxiu.devstack.postgres import create_database, drop_database, ensure_server
from yanxiu.kit.auth import Principal, Role, generate_keypair, issue_token
from yanxiu.kit.db import asyncpg_url, plain_url
from yanxiu.kit.pii import PiiCipher, generate_key

# The brief's floor app, next to the repository: /work/main/bench/.. -> /work/shared/floor.
DEFAULT_FLOOR_DIR = Path(__file__).resolve().parents[1].parent / "shared" / "floor"
FLOOR_DATABASE = "floor"
HOST = "127.0.0.1"
UVICORN = ["--loop", "uvloop", "--http", "httptools"]
READY_TIMEOUT = 120.0


def stderr(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


@dataclass(frozen=True)
class Teacher:
    """A sampled teacher with a token (and a gateway login, password `Platform.password`)."""

    id: uuid.UUID
    token: str
    path: tuple[str, str, str, str]
    username: str


@dataclass
class Platform:
    teachers: int
    database_url: str
    ports: dict[str, int]  # the four services, "gateway" and "floor"
    seeded: Seeded
    province_admin: str  # tokens
    county_admin: str
    school_admin: str
    sample: list[Teacher]
    reviewer_tokens: dict[uuid.UUID, str]
    settings: list[str]
    floor_app: Path
    work: Path  # request files of this run
    setup_seconds: float

    def base(self, name: str) -> str:
        return f"http://{HOST}:{self.ports[name]}"

    def target(self, service: str, path: str, *, gateway: bool) -> tuple[str, str]:
        """(base URL, request path) of a service's route, directly or through the gateway."""
        if gateway:
            return self.base("gateway"), f"/api/v1/{service}{path}"
        return self.base(service), path

    @property
    def password(self) -> str:
        return self.seeded.password


def floor_app_dir(given: Path) -> Path:
    """The floor's directory, resolved; FileNotFoundError without floor_app.py in it."""
    found = given.resolve()
    if not (found / "floor_app.py").is_file():
        raise FileNotFoundError(f"no floor_app.py in {found} (see --floor-dir)")
    return found


def _teacher_token(t: Placed, private: str) -> str:
    return issue_token(
        Principal(
            user_id=f"bench-t-{t.id.hex[:16]}",
            role=Role.teacher,
            org_path=t.path,
            name="基准教师",
            teacher_id=str(t.id),
        ),
        private_key_pem=private,
    )


def _admin_token(role: Role, path: tuple[str, ...], private: str) -> str:
    return issue_token(
        Principal(user_id=f"bench-{role.value}", role=role, org_path=path, name="基准管理员"),
        private_key_pem=private,
    )


def _commands(ports: dict[str, int], floor_dir: Path) -> list[tuple[str, list[str]]]:
    common = ["--host", HOST, *UVICORN]
    services = [
        (
            name,
            [
                f"{name}.main:create_app",
                "--factory",
                "--port",
                str(ports[name]),
                *common,
                "--no-access-log",
                "--log-level",
                "warning",
            ],
        )
        for name in (*SERVICES, "gateway")
    ]
    floor = (
        "floor",
        [
            "--app-dir",
            str(floor_dir),
            "floor_app:app",
            "--port",
            str(ports["floor"]),
            *common,
            "--log-level",
            "warning",
        ],
    )
    return [*services, floor]


@contextlib.asynccontextmanager
async def platform(
    teachers: int = 10_000,
    *,
    floor_dir: Path = DEFAULT_FLOOR_DIR,
    sample: int = 2000,
    reviewers: int | None = None,
    pool_size: int | None = None,
    say: Callable[[str], None] = stderr,
) -> AsyncIterator[Platform]:
    """The platform and the floor, running and seeded; everything stopped and the benchmark's
    database dropped afterwards (the floor's database is kept: it is shared by design).
    `sample` teachers get tokens and logins; the review writes draw on the assignments of
    `reviewers` teachers (default: up to 20,000)."""
    floor_dir = floor_app_dir(floor_dir)
    started = time.perf_counter()
    server, how = await ensure_server(data_dir())
    name = f"yanxiu_bench_api_{uuid.uuid4().hex[:6]}"
    url = asyncpg_url(await create_database(server, name))
    floor_dsn = plain_url(await create_database(server, FLOOR_DATABASE))  # kept if it exists
    broker = TansuBroker()
    work = Path(tempfile.mkdtemp(prefix="yanxiu-bench-"))
    try:
        say(f"platform: database {name} ({how}); migrations …")
        await migrate_all(url)
        private, public = generate_keypair()
        pii_key, provider_key = generate_key(), generate_key()
        seeded = await seed(
            url,
            teachers=teachers,
            sample=min(sample, teachers),
            pii=PiiCipher(pii_key),
            provider_cipher=PiiCipher(provider_key),
            password=secrets.token_urlsafe(12),
            reviewers=reviewers if reviewers is not None else min(teachers, 20_000),
            say=say,
        )
        say(f"  seeded in {sum(seeded.seconds.values()):.0f} s: {seeded.seconds}")
        school = seeded.school_path
        sampled = [
            Teacher(id=t.id, token=_teacher_token(t, private), path=t.path, username=t.username)
            for t in seeded.sample
        ]
        tokens = {t.id: t.token for t in sampled}
        reviewer_tokens = {
            r: tokens.get(r) or _teacher_token(Placed(r, path, "", ""), private)
            for r, path in seeded.reviewer_paths.items()
        }
        names = (*SERVICES, "gateway", "floor")
        ports = dict(zip(names, free_ports(len(names)), strict=True))
        bootstrap = broker.start()
        env = _environment(
            url=url,
            bootstrap=bootstrap,
            public=public,
            private=private,
            pii_key=pii_key,
            provider_key=provider_key,
            ports=ports,
            floor_dsn=floor_dsn,
            pool_size=pool_size,
        )
        say("  starting enrollment, learning, credits, lessons, insights, gateway and the floor …")
        with servers(_commands(ports, floor_dir), env):
            for n in (*SERVICES, "gateway"):
                await wait_ready(
                    f"http://{HOST}:{ports[n]}/readyz", timeout=READY_TIMEOUT, fully=True
                )
            await wait_ready(f"http://{HOST}:{ports['floor']}/heartbeat/1", timeout=READY_TIMEOUT)
            yield Platform(
                teachers=teachers,
                database_url=url,
                ports=ports,
                seeded=seeded,
                province_admin=_admin_token(Role.province_admin, school[:1], private),
                county_admin=_admin_token(Role.county_admin, school[:3], private),
                school_admin=_admin_token(Role.school_admin, school, private),
                sample=sampled,
                reviewer_tokens=reviewer_tokens,
                settings=_settings(pool_size),
                floor_app=floor_dir / "floor_app.py",
                work=work,
                setup_seconds=time.perf_counter() - started,
            )
    finally:
        broker.stop()
        await drop_database(server, name)
        shutil.rmtree(work, ignore_errors=True)


def _environment(
    *,
    url: str,
    bootstrap: str,
    public: str,
    private: str,
    pii_key: str,
    provider_key: str,
    ports: dict[str, int],
    floor_dsn: str,
    pool_size: int | None,
) -> dict[str, str]:
    base = {n: f"http://{HOST}:{p}" for n, p in ports.items()}
    env = {
        **os.environ,
        "DATABASE_URL": url,
        "KAFKA_BOOTSTRAP_SERVERS": bootstrap,
        # This run's own key pair, whatever a developer's shell points at.
        "JWT_PUBLIC_KEY": public,
        "JWT_PUBLIC_KEY_FILE": "",
        "JWT_JWKS_URL": "",
        "GATEWAY_JWT_PRIVATE_KEY": private,
        "GATEWAY_JWT_PRIVATE_KEY_FILE": "",
        "ENROLLMENT_PII_KEY": pii_key,
        "LEARNING_PROVIDER_SECRET_KEY": provider_key,
        **{f"GATEWAY_{s.upper()}_URL": base[s] for s in SERVICES},
        **{f"ENROLLMENT_{s.upper()}_URL": base[s] for s in ("learning", "credits", "lessons")},
        "LESSONS_ENROLLMENT_URL": base["enrollment"],
        "INSIGHTS_ENROLLMENT_URL": base["enrollment"],
        "CREDITS_PUBLIC_BASE_URL": f"{base['gateway']}/api/v1/credits",
        "GATEWAY_RATE_LIMIT_ENABLED": "false",
        "GATEWAY_TOKEN_TTL_SECONDS": str(24 * 3600),
        "LOG_LEVEL": "WARNING",
        "FLOOR_DSN": floor_dsn,
    }
    if pool_size is not None:
        env["DB_POOL_SIZE"] = str(pool_size)
    return env


def _settings(pool_size: int | None) -> list[str]:
    return [
        "each process ×1: uvicorn --loop uvloop --http httptools (services: --no-access-log, "
        "LOG_LEVEL=WARNING; floor: --log-level warning)",
        "gateway rate limit OFF (GATEWAY_RATE_LIMIT_ENABLED=false): a bench token sends "
        "hundreds of requests a second",
        "gateway token age limit 24 h (GATEWAY_TOKEN_TTL_SECONDS=86400): tokens are minted at "
        "setup",
        f"database pool per process: {pool_size if pool_size is not None else 'default (10)'}; "
        "floor: 8 (its own)",
    ]


async def _hold(teachers: int, floor_dir: Path) -> None:
    async with platform(teachers, floor_dir=floor_dir) as p:
        print(f"ready in {p.setup_seconds:.0f} s; ports {p.ports}")
        print(f"province admin token: {p.province_admin}")
        print(f"a teacher: {p.sample[0].id} token: {p.sample[0].token}")
        print("\n".join(f"  {s}" for s in p.settings))
        print("Ctrl-C (or SIGTERM) stops everything.", flush=True)
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, stop.set)
        await stop.wait()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--teachers", type=int, default=10_000)
    parser.add_argument("--floor-dir", type=Path, default=DEFAULT_FLOOR_DIR)
    args = parser.parse_args()
    uvloop.run(_hold(args.teachers, args.floor_dir))


if __name__ == "__main__":
    main()
