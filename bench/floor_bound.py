"""How close to the floor a platform route can get at all (issue #15): the floor beside the least
a platform route must do (bench/floor_bound_app.py: token, scope from the stored org path, ID
number decrypted and masked; a write's record, history, audit and outbox event in one statement),
once on FastAPI as the floor is written and once as a plain ASGI app, in the same run, driven by
the same wrk scripts with the same connections, alternating round by round.

It separates what the rules cost from what the framework costs: the platform's routes
(bench.api_paths) cannot beat the FastAPI column without leaving FastAPI's request handling.

    .venv/bin/python -m bench.floor_bound --seconds 5 --rounds 3
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import sys
import tempfile
import uuid
from pathlib import Path

import asyncpg

from bench.floor_bound_app import SCHEMA, mint_token
from bench.learning_heartbeats import servers, wait_ready
from bench.loadgen import Request, Result, require_wrk, write_requests, wrk
from bench.platform import DEFAULT_FLOOR_DIR, FLOOR_DATABASE, floor_app_dir
from yanxiu.devstack.broker import free_ports
from yanxiu.devstack.paths import data_dir
from yanxiu.devstack.postgres import create_database, ensure_server
from yanxiu.kit.db import plain_url

HOST = "127.0.0.1"
UVICORN = ["--host", HOST, "--loop", "uvloop", "--http", "httptools", "--log-level", "warning"]
TEACHER = uuid.UUID(int=1)
SCHOOL = ("370000", "370100", "370102", "370102-B001")
REPO = Path(__file__).resolve().parents[1]
SIDES = ("floor", "fastapi", "asgi")
FLOOR_WRITE = '{"teacher_id": 1, "course_id": 2, "position": 30}'  # the floor's own write.lua

TABLES = f"""
drop schema if exists {SCHEMA} cascade;
create schema {SCHEMA};
create table {SCHEMA}.orgs (id varchar(40) primary key, path text[] not null);
create table {SCHEMA}.teachers (
  id uuid primary key, name varchar(60) not null, id_number_cipher bytea not null,
  id_number_index char(64) not null unique, gender varchar(10) not null, birth_date date not null,
  stage varchar(20) not null, subject varchar(20) not null, is_rural boolean not null,
  status varchar(20) not null, verified boolean not null,
  school_id varchar(40) not null references {SCHEMA}.orgs, org_path text[] not null);
create table {SCHEMA}.history (id bigserial primary key, teacher_id uuid not null,
  action varchar(20) not null, after jsonb not null, at timestamptz not null default now());
create table {SCHEMA}.audit (id bigserial primary key, actor varchar(60) not null,
  action varchar(40) not null, target varchar(60) not null,
  at timestamptz not null default now());
create table {SCHEMA}.outbox (id bigserial primary key, topic varchar(60) not null,
  key varchar(60) not null, payload jsonb not null, published_at timestamptz);
"""


async def prepare(dsn: str, pii_key: str) -> None:
    """The scratch tables, one school and one teacher (ID number encrypted with the run's key)."""
    os.environ["BOUND_PII_KEY"] = pii_key
    os.environ.setdefault("BOUND_KEY_SEED", "00" * 32)
    from bench.floor_bound_app import Bound  # reads the keys from the environment

    conn = await asyncpg.connect(dsn)
    try:
        await conn.execute(TABLES)
        await conn.execute(f"insert into {SCHEMA}.orgs values ($1, $2)", SCHOOL[-1], list(SCHOOL))
        await conn.execute(
            f"insert into {SCHEMA}.teachers values ($1, '基准教师', $2, $3, 'male', '1980-01-01',"
            f" 'primary', '语文', false, 'active', true, $4, $5)",
            TEACHER,
            Bound().encrypt("370102198001011234"),
            "0" * 64,
            SCHOOL[-1],
            list(SCHOOL),
        )
    finally:
        await conn.close()


def commands(ports: dict[str, int], floor_dir: Path) -> list[tuple[str, list[str]]]:
    def bound(side: str) -> list[str]:
        app = f"bench.floor_bound_app:{side}_app"
        return ["--app-dir", str(REPO), app, "--port", str(ports[side]), "--no-access-log"]

    floor = ["--app-dir", str(floor_dir), "floor_app:app", "--port", str(ports["floor"])]
    listed = [("floor", floor), ("bound-fastapi", bound("fastapi")), ("bound-asgi", bound("asgi"))]
    return [(name, [*args, *UVICORN]) for name, args in listed]


Results = dict[tuple[str, str], list[Result]]


async def run(seconds: float, rounds: int, connections: int, floor_dir: Path) -> Results:
    """Every (kind, side)'s wrk results, one per round; the tables are left for inspection
    until the next run."""
    server, _how = await ensure_server(data_dir())
    dsn = plain_url(await create_database(server, FLOOR_DATABASE))  # the floor's, shared
    seed, pii_key = os.urandom(32).hex(), os.urandom(32).hex()
    os.environ["BOUND_KEY_SEED"] = seed
    await prepare(dsn, pii_key)
    token = mint_token(seed, ["370000"])
    ports = dict(zip(SIDES, free_ports(len(SIDES)), strict=True))
    env = {**os.environ, "FLOOR_DSN": dsn, "BOUND_KEY_SEED": seed, "BOUND_PII_KEY": pii_key}
    auth = {"Authorization": f"Bearer {token}"}
    results: Results = {}
    with tempfile.TemporaryDirectory(prefix="floor-bound-", dir=data_dir()) as work:
        files = {
            "floor-read": [Request("GET", "/heartbeat/1")],
            "floor-write": [Request("POST", "/heartbeat", body=FLOOR_WRITE)],
            "bound-read": [Request("GET", f"/teachers/{TEACHER}", auth)],
        }
        paths = {k: str(write_requests(Path(work) / f"{k}.tsv", v)) for k, v in files.items()}
        start = 0
        with servers(commands(ports, floor_app_dir(floor_dir)), env):
            await wait_ready(f"http://{HOST}:{ports['floor']}/heartbeat/1")
            for side in ("fastapi", "asgi"):
                await _wait_answers(f"http://{HOST}:{ports[side]}/teachers/{TEACHER}", token)
            for n in range(rounds):
                for kind in ("read", "write"):
                    for side in SIDES:
                        url = f"http://{HOST}:{ports[side]}"
                        if side == "floor":
                            script, options = "lines.lua", {"file": paths[f"floor-{kind}"]}
                        elif kind == "read":
                            script, options = "lines.lua", {"file": paths["bound-read"]}
                        else:
                            script = "teacher.lua"
                            options = {
                                "token": token,
                                "school": SCHOOL[-1],
                                "path": "/teachers",
                                "start": str(start),
                                "region": "370199",
                            }
                        got = await wrk(
                            url, script, options, connections=connections, seconds=seconds
                        )
                        start += got.items + 1000
                        if not got.clean:
                            raise RuntimeError(f"{side} {kind}: not clean: {got.summary()}")
                        results.setdefault((kind, side), []).append(got)
                print(f"  round {n + 1} of {rounds} done", file=sys.stderr)
    return results


async def _wait_answers(url: str, token: str) -> None:
    import httpx

    async with httpx.AsyncClient(timeout=2) as client:
        for _ in range(100):
            try:
                r = await client.get(url, headers={"Authorization": f"Bearer {token}"})
                if r.status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            await asyncio.sleep(0.2)
    raise RuntimeError(f"{url} did not answer 200")


def report(results: Results, seconds: float, rounds: int, connections: int) -> None:
    print(
        f"floor bound: {rounds} rounds × {seconds:g} s per side, wrk -t1 -c{connections}, "
        "medians over rounds; ratio = the side's req/s over the floor's in the same round"
    )
    print(f"{'':8}{'side':<9}{'req/s':>8}{'p50 ms':>8}{'p99 ms':>8}{'ratio':>7}  (per round)")
    for kind in ("read", "write"):
        floor = results[(kind, "floor")]
        for side in SIDES:
            runs = results[(kind, side)]
            ratios = [r.rps / f.rps for r, f in zip(runs, floor, strict=True)]
            print(
                f"{kind:<8}{side:<9}{statistics.median(r.rps for r in runs):>8.0f}"
                f"{statistics.median(r.p50_ms for r in runs):>8.2f}"
                f"{statistics.median(r.p99_ms for r in runs):>8.2f}"
                f"{statistics.median(ratios):>6.2f}×  " + " ".join(f"{x:.2f}" for x in ratios)
            )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=float, default=5)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument("--floor-dir", type=Path, default=DEFAULT_FLOOR_DIR)
    args = parser.parse_args()
    require_wrk()
    results = asyncio.run(run(args.seconds, args.rounds, args.connections, args.floor_dir))
    report(results, args.seconds, args.rounds, args.connections)


if __name__ == "__main__":
    main()
