"""The `yanxiu` command: run the platform, migrate a database, load demo data, import a region's
org tree, re-send events (replay, resync), check and repair the consumers' read models
(reconcile), list, replay or drop dead letters (dlq), run the embedded broker alone."""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

from stack import dlq as dlq_cli
from stack.keys import ensure_local_secrets
from stack.migrate import ensure_database, migrate_all
from stack.resync import SOURCES, parse_since, resync
from yanxiu.devstack.paths import SERVICES, data_dir
from yanxiu.devstack.postgres import database_name
from yanxiu.kit.db import asyncpg_url, make_engine
from yanxiu.kit.relay import replay_outbox


async def replay(url: str, services: list[str], *, minutes: float) -> dict[str, int]:
    engine = make_engine(url, pool_size=1)
    since = datetime.now(UTC) - timedelta(minutes=minutes)
    try:
        return {s: await replay_outbox(engine, s, since=since) for s in services}
    finally:
        await engine.dispose()


def said_counts(counts: dict[str, int]) -> str:
    """{"teacher_updated": 5, "teacher_registered": 3} → "5 TeacherUpdated, 3 TeacherRegistered"."""
    names = ("".join(w.capitalize() for w in kind.split("_")) for kind in counts)
    return ", ".join(f"{n} {name}" for n, name in zip(counts.values(), names, strict=True))


def local_broker_port() -> int:
    """The port KAFKA_BOOTSTRAP_SERVERS names on this machine, so that `yanxiu broker` serves
    where the services will look; 9092 otherwise."""
    first = os.environ.get("KAFKA_BOOTSTRAP_SERVERS", "").split(",")[0].strip()
    host, _, port = first.rpartition(":")
    if host in ("127.0.0.1", "localhost") and port.isdigit():
        return int(port)
    return 9092


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="yanxiu", description="Yanxiu platform commands")
    sub = parser.add_subparsers(dest="command", required=True)
    run_p = sub.add_parser("run", help="start the whole platform (make run)")
    run_p.add_argument("--no-demo", action="store_true", help="do not load the demo dataset")
    sub.add_parser(
        "migrate",
        help="create the database DATABASE_URL names if needed and run every service's migrations",
    )
    sub.add_parser(
        "keys",
        help="write local development keys (JWT key pair, PII and provider-secret keys) under "
        ".data/keys/ once, as `make run` does; never for production (deploy/README.md)",
    )
    broker_p = sub.add_parser(
        "broker", help="run the embedded Kafka-protocol broker (Tansu, in memory) until Ctrl-C"
    )
    broker_p.add_argument(
        "--port", type=int, help="default: the port of KAFKA_BOOTSTRAP_SERVERS, else 9092"
    )
    sub.add_parser("demo", help="load the demo dataset into DATABASE_URL")
    orgs_p = sub.add_parser("orgs", help="the org tree (组织机构) of DATABASE_URL")
    orgs_sub = orgs_p.add_subparsers(dest="orgs_command", required=True)
    orgs_import = orgs_sub.add_parser(
        "import",
        help="区划数据导入: add a region's province, cities and counties from FILE (the JSON "
        "shape of enrollment/data/shandong_orgs.json); idempotent, never moves, renames or "
        "deletes an org, refuses a malformed file with a report of its lines",
    )
    orgs_import.add_argument("file", type=Path)
    orgs_import.add_argument(
        "--dry-run", action="store_true", help="check and report, write nothing"
    )
    orgs_import.add_argument(
        "--operator", help="the name the audit trail records (default: operator:<login>)"
    )
    resync_p = sub.add_parser(
        "resync",
        help="make a service send its current state again as events, so that consumers "
        "rebuild their read models (when the broker no longer has the history)",
    )
    resync_p.add_argument("--from", dest="source", choices=SOURCES, required=True)
    resync_p.add_argument(
        "--since",
        type=parse_since,
        help="only what changed since then (ISO date or date-time; Asia/Shanghai unless a "
        "zone is given); default: everything",
    )
    insights_p = sub.add_parser(
        "insights", help="the dashboards' read model: rebuild it from the source services"
    )
    insights_p.add_argument(
        "action",
        choices=["rebuild"],
        help="rebuild: empty it, then have enrollment, learning, lessons and credits re-send "
        "their current state as events (their relays publish them; insights applies them)",
    )
    reconcile_p = sub.add_parser(
        "reconcile",
        help="核对: compare enrollment's registrations and teachers with learning's plans, "
        "lessons' review pools and credits' teachers, per project and org; report the drift "
        "and, with --repair, re-send enrollment's events for the drifted teachers",
    )
    reconcile_p.add_argument(
        "--project", type=uuid.UUID, action="append", help="this project (default: every one)"
    )
    reconcile_p.add_argument("--org", help="only this org's subtree (default: the whole platform)")
    reconcile_p.add_argument("--repair", action="store_true", help="re-send the drifted teachers")
    reconcile_p.add_argument("--json", action="store_true", help="print the reports as JSON")
    replay_p = sub.add_parser(
        "replay", help="re-send outbox events written in the last MINUTES (after a broker loss)"
    )
    replay_p.add_argument("--minutes", type=float, required=True)
    replay_p.add_argument(
        "--service", action="append", choices=SERVICES, help="only these services (default: all)"
    )
    dlq_cli.add_parser(sub)
    openapi_p = sub.add_parser(
        "openapi",
        help="the merged OpenAPI document, built from the apps in-process: print it, or "
        "--write docs/openapi.json and docs/problems.md, or --check that they are current",
    )
    openapi_do = openapi_p.add_mutually_exclusive_group()
    openapi_do.add_argument("--write", action="store_true")
    openapi_do.add_argument("--check", action="store_true")
    args = parser.parse_args(argv)

    if args.command == "run":
        from stack.run import run

        return asyncio.run(run(demo=not args.no_demo))
    if args.command == "keys":
        keys = ensure_local_secrets(data_dir())
        print(f"local keys in {Path(keys['JWT_PUBLIC_KEY_FILE']).parent}")
        return 0
    if args.command == "broker":
        from stack.run import serve_broker

        return serve_broker(args.port or local_broker_port())
    if args.command == "openapi":
        from gateway.openapi import main as openapi_main

        return openapi_main(["--write"] if args.write else ["--check"] if args.check else [])
    url = os.environ.get("DATABASE_URL")
    if not url:
        print("DATABASE_URL is not set", file=sys.stderr)
        return 2
    if args.command == "dlq":
        said = asyncio.run(dlq_cli.run(args, url))
        print(said.text, file=sys.stdout if said.code == 0 else sys.stderr)
        return said.code
    if args.command == "resync":
        counts = asyncio.run(resync(asyncpg_url(url), source=args.source, since=args.since))
        print(
            f"{args.source}: {said_counts(counts)} written to its outbox; its relay publishes "
            "them, and consumers apply each as an upsert"
        )
        return 0
    if args.command == "insights":
        from stack.insights import rebuild

        rebuilt = asyncio.run(rebuild(asyncpg_url(url)))
        for source, kinds in rebuilt.items():
            print(f"{source}: {said_counts(kinds)}")
        print("insights: read model emptied; it fills again as the relays publish these events")
        return 0
    if args.command == "reconcile":
        from stack.reconcile import UnknownOrg, reconcile, render

        try:
            results = asyncio.run(
                reconcile(
                    asyncpg_url(url), projects=args.project, org_id=args.org, repair=args.repair
                )
            )
        except UnknownOrg as exc:
            print(exc, file=sys.stderr)
            return 2
        print(render(results, as_json=args.json))
        # For a scheduled check: 1 when drift was found and left as it was.
        return 0 if all(r.in_sync or d is not None for r, d in results) else 1
    if args.command == "replay":
        counts = asyncio.run(
            replay(asyncpg_url(url), args.service or list(SERVICES), minutes=args.minutes)
        )
        for name, n in counts.items():
            print(f"{name}: {n} events will be re-sent")
        return 0
    if args.command == "orgs":
        from stack.orgs import default_operator, import_orgs

        outcome = import_orgs(
            asyncpg_url(url),
            args.file,
            operator=args.operator or default_operator(),
            dry_run=args.dry_run,
        )
        print(outcome.text, file=sys.stdout if outcome.ok else sys.stderr)
        return 0 if outcome.ok else 1
    if args.command == "migrate":
        if asyncio.run(ensure_database(url)):
            print(f"created database {database_name(url)!r}")
        done = asyncio.run(migrate_all(asyncpg_url(url)))
        print(f"migrated: {', '.join(done)}")
        return 0
    from stack.demo import load_demo

    pii_key = (
        os.environ.get("ENROLLMENT_PII_KEY")
        or ensure_local_secrets(data_dir())["ENROLLMENT_PII_KEY"]
    )
    asyncio.run(load_demo(asyncpg_url(url), data_dir(), pii_key))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
