"""Waits until the database's schemas are at this image's migration heads:
`python -m stack.schema_wait`, the init container of every Deployment in deploy/k8s.

The migration Job (`yanxiu migrate`) and the new pods are applied together; a new pod starts
only once the Job has brought every schema to the revisions its code expects, so a new version
never serves an old schema, whatever order the objects were applied in. A schema at a revision
this image does not know is newer than it (a roll-back to the previous image after a
migration): that is accepted, since a migration keeps the schema usable by the release before
it, and said in the log."""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
import time
from dataclasses import dataclass

import asyncpg
from alembic.script import ScriptDirectory
from alembic.util.exc import CommandError

from stack.migrate import MIGRATED
from yanxiu.devstack.paths import service_dir
from yanxiu.kit.db import plain_url
from yanxiu.kit.migrations import alembic_config


@dataclass(frozen=True)
class SchemaState:
    """Where one service's schema stands against this image's migrations."""

    service: str
    current: frozenset[str]
    heads: frozenset[str]
    known: bool  # every current revision is one of this image's

    @property
    def ready(self) -> bool:
        return self.current == self.heads or (bool(self.current) and not self.known)

    def describe(self) -> str:
        at = ", ".join(sorted(self.current)) or "not migrated"
        if self.current == self.heads:
            return f"{self.service}: at head {at}"
        if self.current and not self.known:
            return f"{self.service}: at {at}, newer than this image (a roll-back): accepted"
        return f"{self.service}: at {at}, this image expects {', '.join(sorted(self.heads))}"


async def schema_states(database_url: str) -> list[SchemaState]:
    states = []
    conn = await asyncpg.connect(plain_url(database_url), timeout=5)
    try:
        for name in MIGRATED:
            script = ScriptDirectory.from_config(alembic_config(service_dir(name), database_url))
            present = await conn.fetchval("SELECT to_regclass($1)", f"{name}.alembic_version")
            rows = (
                await conn.fetch(f"SELECT version_num FROM {name}.alembic_version")
                if present
                else []
            )
            current = frozenset(r["version_num"] for r in rows)
            known = all(_known(script, rev) for rev in current)
            states.append(SchemaState(name, current, frozenset(script.get_heads()), known))
    finally:
        await conn.close()
    return states


def _known(script: ScriptDirectory, revision: str) -> bool:
    try:
        return script.get_revision(revision) is not None
    except CommandError:  # a revision it has never heard of
        return False


async def wait_for_schemas(
    database_url: str, *, timeout: float, interval: float = 2.0, say: bool = True
) -> bool:
    """True once every schema is ready; False when `timeout` seconds pass first. A database
    that does not answer yet counts as not ready."""
    deadline = time.monotonic() + timeout
    last = ""
    while True:
        try:
            states = await schema_states(database_url)
            report = "; ".join(s.describe() for s in states)
            done = all(s.ready for s in states)
        except (OSError, TimeoutError, asyncpg.PostgresError) as exc:
            report, done = f"database not reachable: {type(exc).__name__}: {exc}", False
        if say and report != last:
            print(f"schema_wait: {report}", file=sys.stderr, flush=True)
            last = report
        if done:
            return True
        if time.monotonic() >= deadline:
            return False
        await asyncio.sleep(interval)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m stack.schema_wait",
        description="wait until DATABASE_URL's schemas are at this image's migration heads",
    )
    parser.add_argument("--timeout", type=float, default=900.0, help="seconds (default 900)")
    parser.add_argument("--interval", type=float, default=2.0, help="seconds between checks")
    args = parser.parse_args(argv)
    url = os.environ.get("DATABASE_URL")
    if not url:
        print("schema_wait: DATABASE_URL is not set", file=sys.stderr)
        return 2
    if asyncio.run(wait_for_schemas(url, timeout=args.timeout, interval=args.interval)):
        return 0
    print(
        f"schema_wait: not migrated after {args.timeout:.0f} s; did the migration Job run? "
        "(kubectl logs job/yanxiu-migrate, deploy/k8s/README.md)",
        file=sys.stderr,
    )
    return 1


if __name__ == "__main__":
    raise SystemExit(main())
