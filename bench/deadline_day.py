"""The deadline evening (截止日晚高峰), through the gateway, all at once: teachers signing in,
opening their plan, sending heartbeats and reading their credits; admins paging lists and
exporting their school's registrations (XLSX); a provider posting completions. One wrk process
per class, all running together, each with a share of the connections in proportion to how much
of the evening it is.

Beside it, in the same run and with the same connection counts, the floor mix: each class's
connections on the floor app (bench.platform), reads on its read floor and writes on its write
floor, all together. A class's ratio is its req/s over its floor counterpart's.

Sign-in checks an argon2id password hash, deliberately slow (tens of ms of CPU each): it runs
in the mix (the evening has it) on its own few connections, and is reported apart.

    .venv/bin/python -m bench.deadline_day --teachers 10000 --seconds 20 [--connections 64] [--json]

Needs wrk (Debian's package: apt-get install wrk); without it, says so and exits 2.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal
from urllib.parse import urlencode

import httpx
import uvloop

from bench import feeds
from bench.feeds import Feed, Rotation
from bench.loadgen import Request, Result, bearer, require_wrk, wrk
from bench.platform import DEFAULT_FLOOR_DIR, Platform, platform, stderr
from gateway.passwords import hash_password, verify_password

Kind = Literal["read", "write", "sign-in"]
PAGES = 10  # pages an admin walks through in each list


@dataclass(frozen=True)
class Class:
    name: str
    route: str
    kind: Kind
    feed: Feed
    prefix: str  # through the gateway: /api/v1/<service>
    share: float = 0.0  # of --connections
    fixed: int = 0  # connections of its own instead

    def connections(self, total: int) -> int:
        return self.fixed or max(1, round(self.share * total))


async def pages(p: Platform, path: str, token: str, n: int = PAGES) -> list[str]:
    """The first `n` pages of a list through the gateway (20 a page), as an admin walks
    them: each with the cursor the previous page gave."""
    found: list[str] = []
    cursor: str | None = None
    async with httpx.AsyncClient(base_url=p.base("gateway"), timeout=30) as client:
        for _ in range(n):
            query = {"limit": "20", **({"cursor": cursor} if cursor else {})}
            full = f"{path}?{urlencode(query)}"
            r = await client.get(full, headers=bearer(token))
            r.raise_for_status()
            found.append(full)
            cursor = r.json().get("next_cursor")
            if not cursor:
                break
    return found


async def classes(p: Platform, *, signin_connections: int) -> list[Class]:
    s, w = p.seeded, p.work
    project = s.project_id
    enrollment = "/api/v1/enrollment"
    # A county admin walks its teachers and the project's registrations; the province's
    # admin the province's teachers.
    lists = [
        (path, token)
        for path_, token in (
            (f"{enrollment}/teachers", p.county_admin),
            (f"{enrollment}/projects/{project}/registrations", p.county_admin),
            (f"{enrollment}/teachers", p.province_admin),
        )
        for path in await pages(p, path_, token)
    ]
    credits = Rotation(
        "credits-reads",
        w,
        lambda prefix: [
            Request("GET", f"{prefix}/ledger/{t.id}/{what}", bearer(t.token))
            for t in p.sample
            for what in (f"balance?year={s.year}", "transcript")
        ],
    )
    export = f"/projects/{project}/registrations/export.xlsx"
    found = [
        Class(
            "teachers send heartbeats",
            "POST /learning/progress",
            "write",
            feeds.heartbeats(p),
            "/api/v1/learning",
            share=0.40,
        ),
        Class(
            "teachers open their plan",
            "GET /learning/plans/{teacher}",
            "read",
            feeds.as_teachers(p, "dd-plans", lambda t: f"/plans/{t}"),
            "/api/v1/learning",
            share=0.15,
        ),
        Class(
            "teachers read their credits",
            "GET /credits/ledger/{teacher}/balance|transcript",
            "read",
            credits,
            "/api/v1/credits",
            share=0.15,
        ),
        Class(
            "admins page lists",
            "GET /enrollment/teachers|registrations?cursor=",
            "read",
            Rotation("dd-lists", w, lambda _: [Request("GET", q, bearer(t)) for q, t in lists]),
            "",
            share=0.15,
        ),
        Class(
            "providers post completions",
            "POST /learning/providers/{id}/completions",
            "write",
            feeds.completions(p),
            "/api/v1/learning",
            share=0.10,
        ),
        Class(
            "admins export registrations",
            "GET /enrollment" + export.replace(str(project), "{id}"),
            "read",
            Rotation(
                "dd-export",
                w,
                lambda prefix: [Request("GET", prefix + export, bearer(p.school_admin))],
            ),
            enrollment,
            fixed=1,
        ),
    ]
    if signin_connections:
        found.append(
            Class(
                "teachers sign in",
                "POST /auth/token",
                "sign-in",
                feeds.sign_ins(p),
                "",
                fixed=signin_connections,
            )
        )
    return found


async def mix(
    sides: list[tuple[Class, Feed, str, str]], *, seconds: float, total: int
) -> list[Result]:
    """Every (class, feed, url, prefix) at once, for `seconds`."""

    async def one(c: Class, feed: Feed, url: str, prefix: str) -> Result:
        n = c.connections(total)
        room = int(seconds * 4000) + n
        r = await wrk(url, feed.script, feed.options(prefix, room), connections=n, seconds=seconds)
        feed.used(r.items)
        return r

    return list(await asyncio.gather(*(one(*side) for side in sides)))


def argon2_ms() -> float:
    """The CPU time of one argon2id check here (what each sign-in costs the gateway)."""
    hashed = hash_password("a bench password")
    times = []
    for _ in range(5):
        t = time.process_time()
        verify_password(hashed, "a bench password")
        times.append((time.process_time() - t) * 1000)
    return statistics.median(times)


async def run(
    p: Platform,
    *,
    seconds: float,
    connections: int,
    signin_connections: int = 1,
    say: Callable[[str], None] = stderr,
) -> dict[str, Any]:
    found = await classes(p, signin_connections=signin_connections)
    floors: dict[str, Feed] = {"read": feeds.floor_read(p), "write": feeds.floor_write(p)}
    floor_sides = [
        (c, floors["read" if c.kind == "read" else "write"], p.base("floor"), "") for c in found
    ]
    # Every route once served before the evening (the first export loads the XLSX writer).
    for c in found:
        warm = await wrk(
            p.base("gateway"),
            c.feed.script,
            c.feed.options(c.prefix, 5),
            connections=1,
            seconds=0,
            stop_after=2,
        )
        c.feed.used(warm.items)
    say(f"  the floor mix: {len(found)} wrk processes, {seconds:g} s …")
    floor_results = await mix(floor_sides, seconds=seconds, total=connections)
    say(f"  the deadline evening through the gateway: {len(found)} wrk processes, {seconds:g} s …")
    sides = [(c, c.feed, p.base("gateway"), c.prefix) for c in found]
    results = await mix(sides, seconds=seconds, total=connections)
    rows = [
        {
            "class": c.name,
            "route": c.route,
            "kind": c.kind,
            "connections": c.connections(connections),
            "load": r.summary(),
            "floor": f.summary(),
            "floor_kind": "read" if c.kind == "read" else "write",
            "ratio": round(r.rps / max(f.rps, 1e-9), 3),
        }
        for c, r, f in zip(found, results, floor_results, strict=True)
    ]
    return {
        "teachers": p.teachers,
        "connections": sum(r["connections"] for r in rows),
        "seconds": seconds,
        "settings": p.settings,
        "floor_app": str(p.floor_app),
        "setup_seconds": round(p.setup_seconds, 1),
        "rows": rows,
        "argon2_ms": round(await asyncio.to_thread(argon2_ms), 1),
    }


def report(r: dict[str, Any]) -> list[str]:
    head = (
        f"{'class':<30}{'route':<56}{'conns':>6}{'req/s':>8}{'p50':>8}{'p99':>8}{'non2xx':>7} │"
        f"{'floor':>6}{'req/s':>8}{'p50':>8}{'p99':>8} │{'ratio':>7}"
    )
    lines = [
        f"deadline evening through the gateway: {r['teachers']:,} teachers, "
        f"{r['connections']} connections, {r['seconds']:g} s, every class at once (one wrk each)"
        f"; beside it the floor mix (each class's connections on the floor's read or write, "
        f"together, same run); ms throughout; floor: {r['floor_app']}",
        *(f"  {s}" for s in r["settings"]),
        head,
        "─" * len(head),
    ]

    def line(row: dict[str, Any]) -> str:
        load, floor = row["load"], row["floor"]
        return (
            f"{row['class']:<30}{row['route']:<56}{row['connections']:>6}{load['rps']:>8.0f}"
            f"{load['p50_ms']:>8.1f}{load['p99_ms']:>8.1f}{load['non2xx']:>7} │"
            f"{row['floor_kind']:>6}{floor['rps']:>8.0f}{floor['p50_ms']:>8.1f}"
            f"{floor['p99_ms']:>8.1f} │{row['ratio']:>6.2f}×"
        )

    evening = [row for row in r["rows"] if row["kind"] != "sign-in"]
    lines += [line(row) for row in evening]
    total = sum(row["load"]["rps"] for row in evening)
    floor_total = sum(row["floor"]["rps"] for row in evening)
    lines.append(
        f"{'all but sign-in':<86}{sum(x['connections'] for x in evening):>6}{total:>8.0f}"
        f"{'':>31}{floor_total:>8.0f}{'':>17}{total / max(floor_total, 1e-9):>6.2f}×"
    )
    for row in r["rows"]:
        if row["kind"] == "sign-in":
            lines += [
                f"sign-in, apart (argon2id: one check costs {r['argon2_ms']:.0f} ms of CPU here; "
                "it ran in the mix above on its own connections):",
                line(row),
            ]
    for row in r["rows"]:
        first = row["load"].get("first_non2xx")
        if first:
            lines.append(
                f"  non-2xx: {row['class']}: {row['load']['statuses']}, first: {first[:200]}"
            )
    return lines


async def main_async(args: argparse.Namespace) -> dict[str, Any]:
    async with platform(args.teachers, floor_dir=args.floor_dir, sample=args.sample) as p:
        stderr(f"platform ready in {p.setup_seconds:.0f} s; measuring …")
        return await run(
            p,
            seconds=args.seconds,
            connections=args.connections,
            signin_connections=args.signin_connections,
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--teachers", type=int, default=10_000)
    parser.add_argument("--seconds", type=float, default=20.0)
    parser.add_argument("--connections", type=int, default=64, help="shared out by weight")
    parser.add_argument(
        "--signin-connections", type=int, default=1, help="sign-in's own (0: leave it out)"
    )
    parser.add_argument("--sample", type=int, default=2000, help="teachers with tokens")
    parser.add_argument("--floor-dir", type=Path, default=DEFAULT_FLOOR_DIR)
    parser.add_argument("--json", action="store_true", help="print the results as JSON")
    args = parser.parse_args()
    require_wrk()
    if not (args.floor_dir / "floor_app.py").is_file():
        parser.error(f"no floor_app.py in {args.floor_dir}")
    result = uvloop.run(main_async(args))
    if args.json:
        json.dump(result, sys.stdout, ensure_ascii=False, indent=1, default=str)
        print()
    else:
        print("\n".join(report(result)))


if __name__ == "__main__":
    main()
