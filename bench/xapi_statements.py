"""The Learning Record Store beside the floor (issue #16): filtered pages of a provider's
statements at a size (`--statements`, seeded by COPY with their index keys), and statements
POSTed one at a time and in batches of 100, each measured next to the floor's read or write in the
same run, with the same wrk scripts and connections (bench.platform: the platform and the brief's
floor as processes).

    .venv/bin/python -m bench.xapi_statements --statements 1000000 --seconds 5

Per row: req/s under load (wrk -c32; batches -c8) and the floor's (-c32), their ratio, p50/p99
under load, and the median and p99 of requests sent one at a time (wrk -c1, `--alone` of them).
A batch row's
"statements/s" is its req/s × 100, compared with the write floor's req/s.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import random
import sys
import time
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import urlencode

import asyncpg
import httpx
import orjson

from bench.loadgen import Request, Result, require_wrk, write_requests, wrk
from bench.platform import HOST, Platform, platform
from learning.providers.xapi_index import index_keys
from yanxiu.kit.db import plain_url

VERBS = [f"http://adlnet.gov/expapi/verbs/{v}" for v in ("attended", "experienced", "answered")]
AGENTS, ACTIVITIES, REGISTRATIONS = 100_000, 2_000, 50_000
BATCH = 100
XAPI = {"X-Experience-API-Version": "1.0.3"}
FLOOR_WRITE = '{"teacher_id": 1, "course_id": 2, "position": 30}'  # the floor's own write.lua


def statement(i: int, rng: random.Random) -> dict[str, Any]:
    return {
        "id": str(uuid.UUID(int=rng.getrandbits(128), version=4)),
        "actor": {"objectType": "Agent", "mbox": f"mailto:t{rng.randrange(AGENTS)}@school.cn"},
        "verb": {"id": VERBS[i % len(VERBS)], "display": {"zh-CN": "学习"}},
        "object": {
            "objectType": "Activity",
            "id": f"https://zhixue.example/activities/{rng.randrange(ACTIVITIES)}",
            "definition": {"name": {"zh-CN": "课程"}},
        },
        "context": {
            "registration": str(uuid.UUID(int=rng.randrange(REGISTRATIONS) + 1)),
            "contextActivities": {"parent": [{"id": "https://zhixue.example/programmes/2026"}]},
        },
        "timestamp": "2026-11-02T08:00:00+08:00",
        "version": "1.0.0",
    }


async def seed(url: str, provider_id: uuid.UUID, n: int, say: Any) -> None:
    """n statements of the provider, COPYed with their index keys, then ANALYZEd."""
    rng = random.Random(16)
    start = datetime.now(UTC) - timedelta(days=30)
    conn = await asyncpg.connect(plain_url(url))
    columns = [
        "id",
        "provider_id",
        "statement",
        "verb_id",
        "voided",
        "stored",
        "actor_key",
        "object_key",
        "registration",
        "related_agents",
        "related_activities",
    ]
    try:
        done, chunk = 0, 50_000
        while done < n:
            rows = []
            for i in range(done, min(n, done + chunk)):
                s = statement(i, rng)
                stored = start + timedelta(seconds=i * 2_592_000 / n)
                s["stored"] = stored.isoformat()
                keys = index_keys(s)
                rows.append(
                    (
                        uuid.UUID(s["id"]),
                        provider_id,
                        orjson.dumps(s).decode(),
                        s["verb"]["id"],
                        False,
                        stored,
                        keys.actor,
                        keys.object,
                        uuid.UUID(keys.registration) if keys.registration else None,
                        keys.related_agents,
                        keys.related_activities,
                    )
                )
            await conn.copy_records_to_table(
                "xapi_statements", schema_name="learning", records=rows, columns=columns
            )
            done += len(rows)
            say(f"  seeded {done:,} statements")
        await conn.execute("ANALYZE learning.xapi_statements")
    finally:
        await conn.close()


async def provider_key(p: Platform) -> tuple[uuid.UUID, str]:
    """A provider and its key, made through the gateway as the province admin would."""
    base = f"http://{HOST}:{p.ports['gateway']}/api/v1/learning"
    headers = {"Authorization": f"Bearer {p.province_admin}"}
    async with httpx.AsyncClient(base_url=base, headers=headers, timeout=10) as client:
        created = await client.post(
            "/providers", json={"code": "lrs-bench", "name": "基准 LRS 机构"}
        )
        created.raise_for_status()
        key = await client.post(f"/providers/{created.json()['id']}/keys")
        key.raise_for_status()
    basic = base64.b64encode(f"{key.json()['key_id']}:{key.json()['secret']}".encode()).decode()
    return uuid.UUID(created.json()["id"]), f"Basic {basic}"


def _rows(auth: str) -> list[tuple[str, str, list[Request]]]:
    """(label, kind, requests): reads rotate over 200 values of their filter."""
    rng = random.Random(7)
    headers = {"Authorization": auth, **XAPI}

    def reads(make: Any) -> list[Request]:
        return [Request("GET", f"/xapi/statements?{make()}&limit=20", headers) for _ in range(200)]

    def agent() -> str:
        return orjson.dumps({"mbox": f"mailto:t{rng.randrange(AGENTS)}@school.cn"}).decode()

    def activity() -> str:
        return f"https://zhixue.example/activities/{rng.randrange(ACTIVITIES)}"

    single = orjson.dumps({k: v for k, v in statement(0, rng).items() if k != "id"}).decode()
    batch = orjson.dumps(
        [{k: v for k, v in statement(i, rng).items() if k != "id"} for i in range(BATCH)]
    ).decode()
    return [
        ("GET ?agent=", "read", reads(lambda: urlencode({"agent": agent()}))),
        ("GET ?activity=", "read", reads(lambda: urlencode({"activity": activity()}))),
        (
            "GET ?registration=",
            "read",
            reads(lambda: f"registration={uuid.UUID(int=rng.randrange(REGISTRATIONS) + 1)}"),
        ),
        ("GET ?verb=", "read", reads(lambda: urlencode({"verb": rng.choice(VERBS)}))),
        (
            "GET ?agent=&related_agents",
            "read",
            reads(lambda: urlencode({"agent": agent(), "related_agents": "true"})),
        ),
        ("POST one statement", "write", [Request("POST", "/xapi/statements", headers, single)]),
        (
            f"POST {BATCH} statements",
            "batch",
            [Request("POST", "/xapi/statements", headers, batch)],
        ),
    ]


async def run(statements: int, seconds: float, alone: int) -> dict[str, Any]:
    say = lambda m: print(m, file=sys.stderr)  # noqa: E731
    results: dict[str, Any] = {"statements": statements, "rows": []}
    async with platform(1000, sample=10) as p:
        provider_id, auth = await provider_key(p)
        started = time.perf_counter()
        await seed(p.database_url, provider_id, statements, say)
        results["seed_seconds"] = round(time.perf_counter() - started, 1)
        floor_files = {
            "read": write_requests(p.work / "floor-read.tsv", [Request("GET", "/heartbeat/1")]),
            "write": write_requests(
                p.work / "floor-write.tsv", [Request("POST", "/heartbeat", body=FLOOR_WRITE)]
            ),
        }
        floor = f"http://{HOST}:{p.ports['floor']}"
        learning = f"http://{HOST}:{p.ports['learning']}"
        for label, kind, requests in _rows(auth):
            path = write_requests(p.work / f"row-{len(results['rows'])}.tsv", requests)
            fl = floor_files["read" if kind == "read" else "write"]
            lines = {"file": str(path)}
            one = await wrk(
                learning, "lines.lua", lines, connections=1, seconds=0, stop_after=alone
            )
            # A batch is 100 statements: 8 connections keep 800 in flight.
            conns = 8 if kind == "batch" else 32
            load = await wrk(learning, "lines.lua", lines, connections=conns, seconds=seconds)
            base = await wrk(floor, "lines.lua", {"file": str(fl)}, connections=32, seconds=seconds)
            results["rows"].append(_row(label, kind, one, load, base))
            say(f"  {label}: done")
    return results


def _row(label: str, kind: str, one: Result, load: Result, base: Result) -> dict[str, Any]:
    per = BATCH if kind == "batch" else 1
    return {
        "route": label,
        "kind": kind,
        "rps": round(load.rps * per, 1),
        "floor_rps": round(base.rps, 1),
        "ratio": round(load.rps * per / max(base.rps, 1e-9), 2),
        "p50_ms": round(load.p50_ms, 2),
        "p99_ms": round(load.p99_ms, 2),
        "alone_p50_ms": round(one.p50_ms, 2),
        "alone_p99_ms": round(one.p99_ms, 2),
        "clean": load.clean and one.clean and base.clean,
        "problems": {
            side: {"non2xx": r.non2xx, "socket_errors": r.socket_errors, "sample": r.sample[:200]}
            for side, r in (("alone", one), ("load", load), ("floor", base))
            if not r.clean
        },
    }


def report(r: dict[str, Any]) -> None:
    print(
        f"xAPI statements at {r['statements']:,} stored (seeded in {r['seed_seconds']} s); "
        "directly on learning; wrk -t1 -c32 (load; batches -c8), -c1 (alone); ms"
    )
    print(
        f"{'route':<30}{'per s':>9}{'floor/s':>9}{'ratio':>7}{'p50':>8}{'p99':>8}"
        f"{'alone':>8}{'al.p99':>8}"
    )
    for row in r["rows"]:
        print(
            f"{row['route']:<30}{row['rps']:>9.0f}{row['floor_rps']:>9.0f}{row['ratio']:>6.2f}×"
            f"{row['p50_ms']:>8.1f}{row['p99_ms']:>8.1f}{row['alone_p50_ms']:>8.2f}"
            f"{row['alone_p99_ms']:>8.2f}" + ("" if row["clean"] else "  (not all 2xx)")
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--statements", type=int, default=100_000)
    parser.add_argument("--seconds", type=float, default=5)
    parser.add_argument("--alone", type=int, default=200)
    args = parser.parse_args()
    require_wrk()
    report(asyncio.run(run(args.statements, args.seconds, args.alone)))


if __name__ == "__main__":
    main()
