"""SQL for orgs. The import of a region's tree runs on a plain (sync) connection, so that
migrations load their trees with the same statements as `yanxiu orgs import`."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

import sqlalchemy as sa
from sqlalchemy import func, select, tuple_
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import AsyncSession

from enrollment.models import Org
from enrollment.orgs.tree import StoredOrg
from yanxiu.kit.reads import Db, by_key

# The org columns as migration 0001 made them: an import written against this table behaves the
# same in a migration as at head, whatever columns later revisions add to the model.
_ORGS = sa.table(
    "orgs",
    sa.column("id", sa.String),
    sa.column("parent_id", sa.String),
    sa.column("level", sa.String),
    sa.column("name", sa.String),
    sa.column("province_id", sa.String),
    sa.column("city_id", sa.String),
    sa.column("county_id", sa.String),
    schema="enrollment",
)
_IMPORT_LOCK = "enrollment.orgs.import"


async def get_org(db: Db, org_id: str) -> Org | None:
    return await by_key(db, Org, org_id)


async def lock_org(session: AsyncSession, org_id: str) -> Org | None:
    """The org row, locked until commit: serialises the numbering of its new children."""
    return await session.scalar(select(Org).where(Org.id == org_id).with_for_update())


async def list_orgs(
    session: AsyncSession, *, parent_id: str | None, after: str | None, limit: int
) -> list[Org]:
    stmt = select(Org).order_by(Org.id).limit(limit)
    stmt = (
        stmt.where(Org.parent_id == parent_id) if parent_id else stmt.where(Org.parent_id.is_(None))
    )
    if after is not None:
        stmt = stmt.where(Org.id > after)
    return list((await session.scalars(stmt)).all())


async def child_named(session: AsyncSession, *, parent_id: str, name: str) -> Org | None:
    return await session.scalar(select(Org).where(Org.parent_id == parent_id, Org.name == name))


async def child_ids(session: AsyncSession, parent_id: str) -> list[str]:
    return list((await session.scalars(select(Org.id).where(Org.parent_id == parent_id))).all())


async def count_children(session: AsyncSession, parent_id: str) -> int:
    return int(await session.scalar(select(func.count()).where(Org.parent_id == parent_id)) or 0)


def add(session: AsyncSession, org: Org) -> None:
    session.add(org)


# --- importing a region's tree (sync) -----------------------------------------------------------


def lock_tree_import(conn: Connection) -> None:
    """One import at a time (until commit): two imports of overlapping files cannot both find an
    org missing and both add it."""
    conn.execute(select(func.pg_advisory_xact_lock(func.hashtextextended(_IMPORT_LOCK, 0))))


def _stored(rows: Iterable[Any]) -> list[StoredOrg]:
    return [StoredOrg(id=r.id, parent_id=r.parent_id, level=r.level, name=r.name) for r in rows]


def stored_by_id(conn: Connection, ids: Sequence[str]) -> dict[str, StoredOrg]:
    cols = (_ORGS.c.id, _ORGS.c.parent_id, _ORGS.c.level, _ORGS.c.name)
    if not ids:
        return {}
    return {o.id: o for o in _stored(conn.execute(select(*cols).where(_ORGS.c.id.in_(ids))))}


def stored_by_parent_and_name(
    conn: Connection, pairs: Sequence[tuple[str, str]]
) -> dict[tuple[str | None, str], StoredOrg]:
    """Stored orgs with one of these (parent, name) pairs (roots: the names of top-level
    orgs, passed with parent "")."""
    cols = (_ORGS.c.id, _ORGS.c.parent_id, _ORGS.c.level, _ORGS.c.name)
    children = [(p, n) for p, n in pairs if p]
    roots = [n for p, n in pairs if not p]
    found: list[StoredOrg] = []
    if children:
        found += _stored(
            conn.execute(select(*cols).where(tuple_(_ORGS.c.parent_id, _ORGS.c.name).in_(children)))
        )
    if roots:
        found += _stored(
            conn.execute(select(*cols).where(_ORGS.c.parent_id.is_(None), _ORGS.c.name.in_(roots)))
        )
    return {(o.parent_id, o.name): o for o in found}


def insert_orgs(conn: Connection, rows: list[dict[str, Any]]) -> None:
    if rows:
        conn.execute(sa.insert(_ORGS), rows)
