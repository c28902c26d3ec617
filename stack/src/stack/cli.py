"""The `yanxiu` command: run the platform, migrate a database, load demo data."""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
from datetime import UTC, datetime, timedelta

from stack.keys import ensure_local_secrets
from stack.migrate import migrate_all
from yanxiu.devstack.paths import SERVICES, data_dir
from yanxiu.kit.db import asyncpg_url, make_engine
from yanxiu.kit.relay import replay_outbox


async def replay(url: str, services: list[str], *, minutes: float) -> dict[str, int]:
    engine = make_engine(url, pool_size=1)
    since = datetime.now(UTC) - timedelta(minutes=minutes)
    try:
        return {s: await replay_outbox(engine, s, since=since) for s in services}
    finally:
        await engine.dispose()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="yanxiu", description="Yanxiu platform commands")
    sub = parser.add_subparsers(dest="command", required=True)
    run_p = sub.add_parser("run", help="start the whole platform (make run)")
    run_p.add_argument("--no-demo", action="store_true", help="do not load the demo dataset")
    sub.add_parser("migrate", help="run every service's migrations against DATABASE_URL")
    sub.add_parser("demo", help="load the demo dataset into DATABASE_URL")
    replay_p = sub.add_parser(
        "replay", help="re-send outbox events written in the last MINUTES (after a broker loss)"
    )
    replay_p.add_argument("--minutes", type=float, required=True)
    replay_p.add_argument(
        "--service", action="append", choices=SERVICES, help="only these services (default: all)"
    )
    args = parser.parse_args(argv)

    if args.command == "run":
        from stack.run import run

        return asyncio.run(run(demo=not args.no_demo))
    url = os.environ.get("DATABASE_URL")
    if not url:
        print("DATABASE_URL is not set", file=sys.stderr)
        return 2
    if args.command == "replay":
        counts = asyncio.run(
            replay(asyncpg_url(url), args.service or list(SERVICES), minutes=args.minutes)
        )
        for name, n in counts.items():
            print(f"{name}: {n} events will be re-sent")
        return 0
    if args.command == "migrate":
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
