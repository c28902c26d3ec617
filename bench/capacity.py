"""Capacity plan arithmetic (docs/capacity.md): the deadline evening's peak for a province, the
CPU each process needs for it, replicas, PostgreSQL connections, CPU, WAL and disk, and Kafka.
Nothing is measured here: every input is a flag whose default docs/capacity.md sources (DOMAIN.md,
the seeds, docs/benchmarks.md, the scratch row-size measurement, or a named assumption).

    .venv/bin/python -m bench.capacity                        # the plan's figures
    .venv/bin/python -m bench.capacity --interval 30          # players send every 30 s
    .venv/bin/python -m bench.capacity --concurrent 300000 --signins 150 --argon2-ms 35
"""

from __future__ import annotations

import argparse
import math
from dataclasses import dataclass

# Bytes per row on disk (heap + TOAST + every index of the table), measured 2026-12-04 on
# PostgreSQL 15: the tables created from the services' models in a scratch database, 20,000
# representative rows COPYed, VACUUM ANALYZE, pg_relation_size + pg_indexes_size per row.
ROW_BYTES = {
    "learning.heartbeats": 247,
    "learning.course_progress": 678,
    "learning.xapi_statements": 2464,
    "credits.ledger_entries": 491,
    "credits.course_slots": 301,
    "*.outbox": 1141,
    "*.inbox": 179,
    "*.audit_log": 1012,
}
WAL_PER_HEARTBEAT = 1000  # bytes: 847-875 measured for the batch's writes, + locks and FPIs
PG_US_PER_HEARTBEAT = 90  # backend CPU: 38-44 µs measured for the writes, x2 for reads/locks
PG_US_PER_STATEMENT = 50  # backend CPU of one short indexed statement (assumption)
GATEWAY_MS = 0.25  # gateway CPU per proxied request (240 µs measured, docs/benchmarks.md)


@dataclass(frozen=True)
class Route:
    service: str
    name: str
    rate: float  # requests/s at the peak
    cpu_ms: float  # service CPU per request (1 vCPU)
    statements: float  # database statements per request (docs/benchmarks.md `stmts`)


def routes(a: argparse.Namespace) -> list[Route]:
    reads = a.concurrent / a.read_every  # one teacher read per learner every read_every s
    completions = a.concurrent / (a.course_hours * 3600)  # courses finished on the platform
    xapi = a.provider_concurrent * a.statements_per_hour / 3600
    return [
        Route("learning", "POST /progress (heartbeat)", a.concurrent / a.interval, 0.39, 0),
        Route("learning", "GET /plans/{teacher}", reads * 0.4, 0.39, 1),
        Route("learning", "GET /plans/{teacher}/progress", reads * 0.3, 0.67, 3),
        Route("learning", "POST /assessments", completions, 2.4, 6),
        Route("learning", "POST /selections", a.selections, 2.4, 6),
        Route("learning", "POST /providers/{id}/completions", a.provider_completions, 8.6, 13),
        Route("learning", "POST /xapi/statements (one each)", xapi, 2.87, 4),
        Route("credits", "GET /ledger/{teacher}/balance, /transcript", reads * 0.3, 0.81, 3),
        Route("credits", "POST /records/{id}/review, /approval", a.approvals, 3.3, 6),
        Route("credits", "GET /certificates/{code}.pdf", a.certificates, 6.0, 1),
        Route("enrollment", "GET /teachers, /registrations ?limit=20", a.admin_pages, 1.0, 2),
        Route("enrollment", "GET …/export.xlsx, a school (~370 rows)", a.exports[0] / 60, 125, 2),
        Route("enrollment", "GET …/export.xlsx, a county (~7,300)", a.exports[1] / 60, 1500, 2),
        Route("enrollment", "GET …/export.xlsx, a city (~88,000)", a.exports[2] / 60, 21000, 2),
        Route("lessons", "POST /reviews", a.reviews, 3.3, 6),
        Route("lessons", "GET /assignments?teacher_id=", a.reviews * 2, 0.67, 1),
        Route("gateway", "POST /auth/refresh", a.concurrent / a.token_ttl, 3.0, 3),
    ]


def replicas(cores: float, a: argparse.Namespace) -> int:
    """Enough that the peak runs at `target` utilisation, a multiple of the zones, at least
    one per zone."""
    n = max(a.zones, math.ceil(cores / a.target))
    return math.ceil(n / a.zones) * a.zones


def table(head: list[str], rows: list[list[str]]) -> str:
    out = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    out += ["| " + " | ".join(r) + " |" for r in rows]
    return "\n".join(out)


def report(a: argparse.Namespace) -> str:
    rs = routes(a)
    total = sum(r.rate for r in rs) + a.signins
    parts = [f"Peak requests/s through the gateway: {total:,.0f} (sign-ins {a.signins:,.0f})"]
    parts.append(
        table(
            ["service", "route", "req/s", "CPU ms", "cores"],
            [
                [
                    r.service,
                    r.name,
                    f"{r.rate:,.0f}" if r.rate >= 10 else f"{r.rate:.2f}",
                    f"{r.cpu_ms:g}",
                    f"{r.rate * r.cpu_ms / 1000:.2f}",
                ]
                for r in rs
            ],
        )
    )
    cores: dict[str, float] = {}
    for r in rs:
        cores[r.service] = cores.get(r.service, 0.0) + r.rate * r.cpu_ms / 1000
    cores["gateway"] = cores.get("gateway", 0.0) + total * GATEWAY_MS / 1000
    signin = a.signins * a.argon2_ms / 1000
    rows = []
    for service in ("gateway", "learning", "enrollment", "credits", "lessons"):
        n = replicas(cores[service], a)
        left = n - n // a.zones
        rows.append(
            [
                service,
                f"{cores[service]:.2f}",
                str(n),
                f"{cores[service] / n:.0%}",
                f"{cores[service] / left:.0%}",
            ]
        )
    rows.append(
        [
            "gateway password workers",
            f"{signin:.1f}",
            f"{math.ceil(signin / a.target)} threads",
            f"{a.target:.0%}",
            f"{signin / (math.ceil(signin / a.target) * (a.zones - 1) / a.zones):.0%}",
        ]
    )
    parts.append(
        table(["process", "cores at peak", "replicas", "busy at peak", "busy, a zone lost"], rows)
    )
    hb = a.concurrent / a.interval
    other = sum(r.rate * r.statements for r in rs)
    batch_statements = hb / a.batch * 5  # BEGIN, 3 statements, COMMIT per heartbeat batch
    pg = (hb * PG_US_PER_HEARTBEAT + (other + batch_statements) * PG_US_PER_STATEMENT) / 1e6
    parts.append(
        f"PostgreSQL at peak: ~{pg:.1f} cores of backend CPU for the requests "
        f"({hb:,.0f} heartbeats/s in ~{hb / a.batch:,.0f} batches/s, "
        f"{other:,.0f} other statements/s); "
        f"WAL ~{hb * WAL_PER_HEARTBEAT / 1e6:.0f} MB/s from heartbeats, "
        f"~{hb * WAL_PER_HEARTBEAT * 3600 / 1e9:.0f} GB an hour"
    )
    rows_year = a.teachers * a.platform_hours * 3600 / a.mean_interval
    xapi_year = a.provider_teachers * a.platform_hours * a.statements_per_hour
    entries = a.teachers * a.entries
    # (data, table, rows a year, retention in days or None for kept, rows online at the peak)
    disk: list[tuple[str, str, float, float | None, float]] = [
        (
            "heartbeat log",
            "learning.heartbeats",
            rows_year,
            a.log_days,
            rows_year * a.busiest_share * a.log_days / 30,
        ),
        (
            "course progress",
            "learning.course_progress",
            a.teachers * a.courses,
            None,
            a.teachers * a.courses,
        ),
        ("xAPI statements", "learning.xapi_statements", xapi_year, None, xapi_year),
        ("ledger entries", "credits.ledger_entries", entries, None, entries),
        ("course slots", "credits.course_slots", entries, None, entries),
        ("outbox, every schema", "*.outbox", a.events, 3, a.burst_events),
        ("inbox, every group", "*.inbox", a.inbox_rows, 14, a.inbox_rows * 0.3),
        ("audit log, every schema", "*.audit_log", a.audit, None, a.audit),
    ]
    rows = [
        [
            label,
            f"{n:,.0f}",
            f"{ROW_BYTES[key]:,}",
            f"{n * ROW_BYTES[key] / 1e9:,.1f}",
            "kept" if days is None else f"{days:g} d",
            f"{online * ROW_BYTES[key] / 1e9:,.1f}",
        ]
        for label, key, n, days, online in disk
    ]
    parts.append(
        table(["data", "rows a year", "B/row", "GB written a year", "retention", "GB online"], rows)
    )
    return "\n\n".join(parts)


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    add = p.add_argument
    add("--teachers", type=float, default=1_000_000)
    add("--concurrent", type=float, default=200_000, help="learners playing at once")
    add("--interval", type=float, default=10, help="heartbeat interval at the peak, s")
    add("--mean-interval", type=float, default=20, help="mean interval for storage, s")
    add("--platform-hours", type=float, default=20, help="player hours a year per teacher")
    add("--batch", type=float, default=10, help="mean heartbeats per batch at the peak")
    add("--busiest-share", type=float, default=0.4, help="of a year's watching, last 30 d")
    add("--log-days", type=float, default=30, help="LEARNING_PROGRESS_LOG_RETENTION_DAYS")
    add("--courses", type=float, default=10, help="course-progress rows per teacher-year")
    add("--course-hours", type=float, default=2, help="mean course length, h")
    add("--read-every", type=float, default=300, help="a teacher read per learner every s")
    add("--token-ttl", type=float, default=900, help="GATEWAY_TOKEN_TTL_SECONDS")
    add("--signins", type=float, default=100, help="password sign-ins/s")
    add("--argon2-ms", type=float, default=210, help="CPU per argon2id check")
    add("--provider-concurrent", type=float, default=50_000)
    add("--provider-teachers", type=float, default=200_000)
    add("--statements-per-hour", type=float, default=12, help="xAPI per provider learner-hour")
    add("--provider-completions", type=float, default=60, help="/s, a provider's bulk sync")
    add("--selections", type=float, default=20)
    add("--approvals", type=float, default=10)
    add("--certificates", type=float, default=10)
    add("--reviews", type=float, default=10)
    add("--admin-pages", type=float, default=200, help="2,000 admins, a page every 10 s")
    add("--exports", type=float, nargs=3, default=[50, 8, 2], help="per minute: school county city")
    add("--entries", type=float, default=10, help="ledger entries per teacher-year")
    add("--events", type=float, default=19_000_000, help="events a year, every topic")
    add("--burst-events", type=float, default=3_000_000, help="events of the busiest 72 h")
    add("--inbox-rows", type=float, default=37_000_000, help="events x consumer groups a year")
    add("--audit", type=float, default=20_000_000, help="audit entries a year")
    add("--target", type=float, default=0.6, help="CPU utilisation at the peak")
    add("--zones", type=int, default=3)
    print(report(p.parse_args()))


if __name__ == "__main__":
    main()
