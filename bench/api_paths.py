"""Route benchmarks side by side with the floor (issue #15): every route class of the platform —
reads by id and first pages of lists, the writes — measured with wrk, directly on its service
and through the gateway, next to the floor (bench.platform: the brief's floor_app.py, one
statement per request) with the same connections and duration in the same run: for each route,
the route directly, then the floor, then the route through the gateway, one after the other.

For each route: req/s, p50 and p99 under load, the latency of a request alone (median of N
sequential requests on one keep-alive connection, wrk -c1, the same for the floor), the ratio
of its req/s to the floor's (reads to the read floor, writes to the write floor) and the target:
reads ≥ 1.0× directly and ≥ 0.8× through the gateway, p99 < 50 ms, alone ≤ 1.5 ms; writes
≥ 0.8× the write floor; heartbeats through the gateway ≥ 1.5× the write floor. Then heartbeats
at a fixed 1,000/s through the gateway and against the write floor, with one open-loop Python
generator (bench.learning_heartbeats.fixed_rate: latency from when each request was due), p99
side by side (target < 100 ms).

    .venv/bin/python -m bench.api_paths --teachers 10000 --seconds 10 --connections 32 [--json]

Needs wrk (Debian's package: apt-get install wrk); without it, says so and exits 2.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import httpx
import uvloop
from prometheus_client.parser import text_string_to_metric_families

from bench import feeds
from bench.feeds import Feed, NewTeachers, Pool, Rotation
from bench.learning_heartbeats import Target, fixed_rate
from bench.learning_heartbeats import Teacher as Viewer
from bench.loadgen import Request, Result, bearer, require_wrk, wrk
from bench.platform import DEFAULT_FLOOR_DIR, HOST, Platform, platform, stderr
from bench.seeding import review_scores

Kind = Literal["read", "write", "heartbeat"]
MISSING = [
    "enrollment GET /projects/{id}: enrollment has no such route (only GET /projects, the list)",
]
PA, TEACHER = "province admin", "the teacher"
ROOM_PER_SECOND = 4000  # write items prepared per second of a load run (more than ever sent)


@dataclass(frozen=True)
class Route:
    service: str
    label: str  # method and path template, as the service declares it
    actor: str  # whose token: the teacher reads their own
    kind: Kind
    feed: Feed  # one per route: the direct and the gateway runs share a write pool


def routes(p: Platform) -> list[Route]:
    s, w = p.seeded, p.work
    pa = bearer(p.province_admin)
    project = s.project_id
    n = len(p.sample)

    def admin_get(name: str, path: str) -> Rotation:
        return Rotation(name, w, lambda prefix: [Request("GET", prefix + path, pa)])

    def selection(k: int, prefix: str) -> Request:
        t = p.sample[k % n]
        body = {"project_id": str(project), "course_id": str(s.electives[k // n])}
        return Request("POST", f"{prefix}/selections", bearer(t.token), json.dumps(body))

    def review(k: int, prefix: str) -> Request:
        reviewer, assignment = s.reviews[k]
        body = {
            "assignment_id": str(assignment),
            "scores": review_scores(),
            "comment": "教学目标明确，环节紧凑（基准）",
        }
        token = p.reviewer_tokens[reviewer]
        return Request("POST", f"{prefix}/reviews", bearer(token), json.dumps(body))

    teacher_pages = Rotation(
        "teachers-by-id",
        w,
        lambda prefix: [Request("GET", f"{prefix}/teachers/{t.id}", pa) for t in p.sample],
    )
    registrations = f"/projects/{project}/registrations?limit=20"
    return [
        Route("enrollment", "GET /projects", PA, "read", admin_get("projects", "/projects")),
        Route(
            "enrollment",
            "GET /teachers?limit=20",
            PA,
            "read",
            admin_get("teachers", "/teachers?limit=20"),
        ),
        Route("enrollment", "GET /teachers/{id}", PA, "read", teacher_pages),
        Route(
            "enrollment",
            "GET /projects/{id}/registrations?limit=20",
            PA,
            "read",
            admin_get("registrations", registrations),
        ),
        Route(
            "learning",
            "GET /plans/{teacher}",
            TEACHER,
            "read",
            feeds.as_teachers(p, "plans", lambda t: f"/plans/{t}"),
        ),
        Route(
            "learning",
            "GET /plans/{teacher}/progress",
            TEACHER,
            "read",
            feeds.as_teachers(p, "plan-progress", lambda t: f"/plans/{t}/progress"),
        ),
        Route(
            "learning",
            "GET /progress/{teacher}",
            TEACHER,
            "read",
            feeds.as_teachers(p, "progress", lambda t: f"/progress/{t}"),
        ),
        Route(
            "credits",
            "GET /ledger/{teacher}/balance?year=",
            TEACHER,
            "read",
            feeds.as_teachers(p, "balance", lambda t: f"/ledger/{t}/balance?year={s.year}"),
        ),
        Route(
            "credits",
            "GET /ledger/{teacher}/transcript",
            TEACHER,
            "read",
            feeds.as_teachers(p, "transcript", lambda t: f"/ledger/{t}/transcript"),
        ),
        Route(
            "lessons",
            "GET /lessons?limit=20",
            PA,
            "read",
            admin_get("lessons", "/lessons?limit=20"),
        ),
        Route(
            "lessons",
            "GET /assignments?teacher_id=",
            TEACHER,
            "read",
            feeds.as_teachers(
                p, "assignments", lambda t: f"/assignments?teacher_id={t}&project_id={project}"
            ),
        ),
        Route(
            "enrollment",
            "POST /teachers",
            "school admin",
            "write",
            NewTeachers(p.school_admin, s.school_path[3]),
        ),
        Route(
            "learning",
            "POST /selections",
            TEACHER,
            "write",
            Pool("selections", w, selection, total=n * len(s.electives)),
        ),
        Route(
            "lessons",
            "POST /reviews",
            "reviewer",
            "write",
            Pool("reviews", w, review, total=len(s.reviews)),
        ),
        Route(
            "learning",
            "POST /providers/{id}/completions",
            "provider (HMAC)",
            "write",
            feeds.completions(p),
        ),
        Route("learning", "POST /progress (heartbeat)", TEACHER, "heartbeat", feeds.heartbeats(p)),
    ]


# --- running one side ---------------------------------------------------------------------


async def alone(url: str, feed: Feed, prefix: str, n: int) -> Result:
    r = await wrk(
        url, feed.script, feed.options(prefix, n + 5), connections=1, seconds=0, stop_after=n
    )
    feed.used(r.items)
    return r


async def load(url: str, feed: Feed, prefix: str, *, seconds: float, connections: int) -> Result:
    room = int(seconds * ROOM_PER_SECOND) + connections
    r = await wrk(
        url, feed.script, feed.options(prefix, room), connections=connections, seconds=seconds
    )
    feed.used(r.items)
    return r


async def statements_sent(base: str, method: str) -> tuple[float, float]:
    """(statements, requests) of a service so far, for one HTTP method, from its metrics."""
    async with httpx.AsyncClient(base_url=base, timeout=10) as client:
        text = (await client.get("/metrics")).text
    sums = {"yanxiu_http_db_statements_sum": 0.0, "yanxiu_http_db_statements_count": 0.0}
    for family in text_string_to_metric_families(text):
        for s in family.samples:
            if s.name in sums and s.labels.get("method") == method:
                sums[s.name] += s.value
    return sums["yanxiu_http_db_statements_sum"], sums["yanxiu_http_db_statements_count"]


def target(kind: Kind, gateway: bool) -> tuple[str, Callable[[float, float, float], list[str]]]:
    """The target's text and what it misses, given (ratio, p99 ms, alone ms)."""
    if kind == "read":
        need = 0.8 if gateway else 1.0
        return f"≥{need:.1f}×, p99<50, alone≤1.5", lambda r, p99, a: [
            m for m, bad in (("ratio", r < need), ("p99", p99 >= 50), ("alone", a > 1.5)) if bad
        ]
    need = 1.5 if kind == "heartbeat" and gateway else 0.8
    return f"≥{need:.1f}× write floor", lambda r, p99, a: ["ratio"] if r < need else []


async def measure(
    p: Platform,
    route: Route,
    *,
    floors: dict[str, Feed],
    seconds: float,
    connections: int,
    alone_requests: int,
) -> list[dict[str, Any]]:
    """One route, directly and through the gateway, and its floor (reads: the read floor;
    writes: the write floor): each alone, then under load one after the other, the floor's
    load between the route's two, so that each is next to it in time."""
    floor, floor_url = floors["read" if route.kind == "read" else "write"], p.base("floor")
    sides = {gateway: p.target(route.service, "", gateway=gateway) for gateway in (False, True)}
    floor_alone = await alone(floor_url, floor, "", alone_requests)
    method = route.label.split(" ", 1)[0]
    sent, asked = await statements_sent(p.base(route.service), method)
    alones = {
        g: await alone(url, route.feed, pre, alone_requests) for g, (url, pre) in sides.items()
    }
    sent_after, asked_after = await statements_sent(p.base(route.service), method)
    per_request = (sent_after - sent) / max(asked_after - asked, 1)
    loads = {}
    url, prefix = sides[False]
    loads[False] = await load(url, route.feed, prefix, seconds=seconds, connections=connections)
    floor_load = await load(floor_url, floor, "", seconds=seconds, connections=connections)
    url, prefix = sides[True]
    loads[True] = await load(url, route.feed, prefix, seconds=seconds, connections=connections)
    left = route.feed.left()
    rows = []
    for gateway in (False, True):
        route_load, route_alone = loads[gateway], alones[gateway]
        ratio = route_load.rps / max(floor_load.rps, 1e-9)
        text, misses = target(route.kind, gateway)
        missed = misses(ratio, route_load.p99_ms, route_alone.p50_ms)
        if route_load.non2xx or route_alone.non2xx:
            missed.append("non-2xx")
        if route_load.socket_errors or route_alone.socket_errors:
            missed.append("socket errors")
        rows.append(
            {
                "service": route.service,
                "route": route.label,
                "as": route.actor,
                "kind": route.kind,
                "via": "gateway" if gateway else "direct",
                "load": route_load.summary(),
                "alone_ms": round(route_alone.p50_ms, 3),
                "statements": round(per_request, 1),
                "alone": route_alone.summary(),
                "floor": floor_load.summary(),
                "floor_alone_ms": round(floor_alone.p50_ms, 3),
                "ratio": round(ratio, 3),
                "target": text,
                "missed": missed,
                **({"pool_left": left} if left is not None else {}),
            }
        )
    return rows


async def heartbeats_at_fixed_rate(
    p: Platform, *, rate: float, seconds: float, connections: int
) -> dict[str, Any]:
    """The same open-loop generator against the gateway's heartbeat and the write floor."""
    viewers = [Viewer(id=t.id, token=t.token, number=i + 1) for i, t in enumerate(p.sample)]
    course, project = p.seeded.video_course, p.seeded.project_id
    gateway = Target(HOST, p.ports["gateway"], "/api/v1/learning/progress", course, project)
    floor = Target(HOST, p.ports["floor"], "/heartbeat", course, project, floor=True)
    sides = {}
    for name, side in (("floor", floor), ("gateway", gateway)):
        tally = await fixed_rate(side, viewers, rate=rate, seconds=seconds, connections=connections)
        sides[name] = tally.summary()
    return {"rate": rate, "seconds": seconds, "connections": connections, **sides}


async def run(
    p: Platform,
    *,
    seconds: float,
    connections: int,
    alone_requests: int,
    rate: float,
    rate_seconds: float,
    rate_connections: int,
    only: str = "",
    say: Callable[[str], None] = stderr,
) -> dict[str, Any]:
    floors: dict[str, Feed] = {"read": feeds.floor_read(p), "write": feeds.floor_write(p)}
    rows: list[dict[str, Any]] = []
    for route in routes(p):
        if only and only not in f"{route.service} {route.label}":
            continue
        say(f"  {route.service} {route.label} …")
        rows += await measure(
            p,
            route,
            floors=floors,
            seconds=seconds,
            connections=connections,
            alone_requests=alone_requests,
        )
    steady = None
    if rate > 0:
        say(f"  heartbeats at a fixed {rate:.0f}/s (floor, then gateway) …")
        steady = await heartbeats_at_fixed_rate(
            p, rate=rate, seconds=rate_seconds, connections=rate_connections
        )
    return {
        "teachers": p.teachers,
        "connections": connections,
        "seconds": seconds,
        "alone_requests": alone_requests,
        "settings": p.settings,
        "floor_app": str(p.floor_app),
        "setup_seconds": round(p.setup_seconds, 1),
        "seed_seconds": p.seeded.seconds,
        "rows": rows,
        "fixed_rate": steady,
        "missing_routes": MISSING,
    }


# --- the report ---------------------------------------------------------------------------------


def report(r: dict[str, Any]) -> list[str]:
    head = (
        f"{'route':<52}{'as':<16}{'via':<8}{'req/s':>7}{'p50':>7}{'p99':>7}{'alone':>7}"
        f"{'stmts':>6} │"
        f"{'floor/s':>8}{'p99':>7}{'alone':>7} │{'ratio':>7}  {'target':<28}verdict"
    )
    lines = [
        f"api paths: {r['teachers']:,} teachers, {r['connections']} connections, "
        f"{r['seconds']:g} s per side, wrk -t1; alone = median of {r['alone_requests']} "
        f"sequential requests (wrk -c1); ms throughout; floor: {r['floor_app']}",
        *(f"  {s}" for s in r["settings"]),
        head,
        "─" * len(head),
    ]
    for row in r["rows"]:
        load, floor = row["load"], row["floor"]
        verdict = "OK" if not row["missed"] else "missed: " + ", ".join(row["missed"])
        lines.append(
            f"{row['service'] + ' ' + row['route']:<52}{row['as']:<16}{row['via']:<8}"
            f"{load['rps']:>7.0f}{load['p50_ms']:>7.1f}{load['p99_ms']:>7.1f}"
            f"{row['alone_ms']:>7.2f}{row['statements']:>6.1f} │"
            f"{floor['rps']:>8.0f}{floor['p99_ms']:>7.1f}{row['floor_alone_ms']:>7.2f} │"
            f"{row['ratio']:>6.2f}×  {row['target']:<28}{verdict}"
        )
    for row in r["rows"]:
        for side in ("alone", "load"):
            first = row[side].get("first_non2xx")
            if first:
                lines.append(
                    f"  non-2xx: {row['service']} {row['route']} ({row['via']}, {side}): "
                    f"{row[side]['statuses']}, first: {first[:200]}"
                )
        if row.get("pool_left") == 0:
            lines.append(f"  pool exhausted: {row['service']} {row['route']}")
    f = r["fixed_rate"]
    if f is None:
        return lines
    gw, fl = f["gateway"], f["floor"]
    ok = gw["p99_ms"] < 100
    lines += [
        f"heartbeats at a fixed {f['rate']:.0f}/s for {f['seconds']:g} s, {f['connections']} "
        "connections, one open-loop Python generator (latency from when each request was due):",
        f"  write floor POST /heartbeat: {fl['rps']:.0f}/s answered, p50 {fl['p50_ms']:.1f} ms, "
        f"p99 {fl['p99_ms']:.1f} ms, {fl['statuses']}",
        f"  gateway POST /api/v1/learning/progress: {gw['rps']:.0f}/s answered, p50 "
        f"{gw['p50_ms']:.1f} ms, p99 {gw['p99_ms']:.1f} ms, {gw['statuses']} "
        f"(target p99 < 100 ms: {'OK' if ok else 'missed'}; "
        f"{gw['p99_ms'] / max(fl['p99_ms'], 1e-9):.2f}× the floor's p99)",
        "not measured:",
        *(f"  {m}" for m in r["missing_routes"]),
    ]
    return lines


async def main_async(args: argparse.Namespace) -> dict[str, Any]:
    async with platform(args.teachers, floor_dir=args.floor_dir, sample=args.sample) as p:
        stderr(f"platform ready in {p.setup_seconds:.0f} s; measuring …")
        return await run(
            p,
            seconds=args.seconds,
            connections=args.connections,
            alone_requests=args.alone,
            rate=args.rate,
            rate_seconds=args.rate_seconds or args.seconds,
            rate_connections=args.rate_connections,
            only=args.only,
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--teachers", type=int, default=10_000)
    parser.add_argument("--seconds", type=float, default=10.0, help="per side and route")
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument("--alone", type=int, default=200, help="sequential requests, alone")
    parser.add_argument("--sample", type=int, default=2000, help="teachers with tokens")
    parser.add_argument(
        "--rate", type=float, default=1000.0, help="fixed heartbeat rate /s (0: not measured)"
    )
    parser.add_argument(
        "--only", default="", help="measure only the routes whose 'service label' contains this"
    )
    parser.add_argument("--rate-seconds", type=float, default=None, help="default: --seconds")
    parser.add_argument("--rate-connections", type=int, default=256)
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
