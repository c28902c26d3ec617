"""区划数据导入: adds a region's province, cities and counties (a checked `OrgTree`) to the stored
tree. Idempotent: what is stored already and identical is left alone; an import never moves,
renames or deletes an org, and a file that would is refused whole. Runs on a sync connection so
that a migration (`op.get_bind()`) and `yanxiu orgs import` (through `orgs.service`) share it;
it never commits."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy.engine import Connection

from enrollment.orgs import repository as repo
from enrollment.orgs.errors import OrgTreeConflict
from enrollment.orgs.tree import ImportReport, OrgTree, plan, read_tree, report_of

DATA = Path(__file__).resolve().parent.parent / "data"


def shipped_tree(name: str) -> OrgTree:
    """A tree shipped with enrollment: `data/<name>_orgs.json` (e.g. "guangdong")."""
    return read_tree(DATA / f"{name}_orgs.json")


def apply_tree(conn: Connection, tree: OrgTree) -> ImportReport:
    """Adds what `tree` has and the database lacks, in the caller's transaction; raises
    `OrgTreeConflict` (nothing written) when the file disagrees with a stored org."""
    repo.lock_tree_import(conn)
    ids = [d.id for d in tree.divisions]
    pairs = [(d.parent_id or "", d.name) for d in tree.divisions]
    planned = plan(tree, repo.stored_by_id(conn, ids), repo.stored_by_parent_and_name(conn, pairs))
    if planned.conflicts:
        raise OrgTreeConflict(planned.conflicts)
    repo.insert_orgs(conn, [d.row() for d in planned.new])
    return report_of(tree, planned)
