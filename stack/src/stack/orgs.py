"""`yanxiu orgs import FILE`: a platform operator adds a region's province, cities and counties
(official division codes and names, the JSON shape of enrollment/data/shandong_orgs.json) to the
org tree, with enrollment's own loader (the one its migrations use). Idempotent; never moves,
renames or deletes an org; a malformed or conflicting file is refused whole with a report of its
lines. Schools are not imported: county admins add them through the API."""

from __future__ import annotations

import asyncio
import getpass
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from yanxiu.kit.db import make_engine, make_session_factory
from yanxiu.kit.errors import DomainError

if TYPE_CHECKING:
    from enrollment.orgs.tree import OrgTree

MAX_FILE_BYTES = 20 * 1024 * 1024  # every county of China is well under 1 MiB


@dataclass
class Outcome:
    ok: bool
    text: str


def default_operator() -> str:
    try:
        return f"operator:{getpass.getuser()}"
    except (KeyError, OSError):  # no user name in a bare container
        return "operator"


def _refusal(exc: DomainError) -> str:
    lines = [f"{exc.detail_zh} ({exc.detail_en})"]
    for e in exc.extra.get("errors", []):
        lines.append(f"  {e['message']}  ({e['message_en']})")
    if exc.extra.get("truncated"):
        lines.append(f"  … {exc.extra['error_count']} in all")
    return "\n".join(lines)


def import_orgs(url: str, path: Path, *, operator: str, dry_run: bool = False) -> Outcome:
    """Imports the tree in `path` into the database at `url` (committed unless `dry_run`)."""
    from enrollment.orgs.errors import OrgTreeInvalid
    from enrollment.orgs.tree import parse_tree

    try:
        if path.stat().st_size > MAX_FILE_BYTES:
            return Outcome(False, f"{path}: larger than {MAX_FILE_BYTES // 2**20} MiB")
        raw = path.read_bytes()
    except OSError as exc:
        return Outcome(False, f"{path}: {exc.strerror}")
    try:
        tree = parse_tree(raw.decode("utf-8-sig"))
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        return Outcome(False, f"{path}: 第{line}行不是 UTF-8 编码 (line {line} is not UTF-8)")
    except OrgTreeInvalid as exc:
        return Outcome(False, f"{path}:\n{_refusal(exc)}")
    return asyncio.run(_import(url, path, tree, operator=operator, dry_run=dry_run))


async def _import(url: str, path: Path, tree: OrgTree, *, operator: str, dry_run: bool) -> Outcome:
    from enrollment.orgs.errors import OrgTreeConflict
    from enrollment.orgs.service import import_tree

    engine = make_engine(url, pool_size=1)
    try:
        async with make_session_factory(engine)() as session:
            try:
                report = await import_tree(session, tree=tree, operator=operator)
            except OrgTreeConflict as exc:
                await session.rollback()
                return Outcome(False, f"{path}:\n{_refusal(exc)}")
            if dry_run:
                await session.rollback()
            else:
                await session.commit()
    finally:
        await engine.dispose()
    done = "would import (dry run, nothing written)" if dry_run else "imported"
    return Outcome(True, f"{path}: {done}: {report.summary()}")
