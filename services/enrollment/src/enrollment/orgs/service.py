"""组织机构: the province → city → county → school tree and its admins.
Use cases; nothing commits here.

Provinces, cities and counties are official data (administrative division codes), loaded from
`enrollment/data/*_orgs.json` by migrations 0002 and 0007 or imported by a platform operator
(`yanxiu orgs import FILE`, `import_tree` here); schools are added by the county admin of their
county, or by the city or province above it."""

from __future__ import annotations

import re

from sqlalchemy.ext.asyncio import AsyncSession

from enrollment.audit import AUDIT
from enrollment.errors import NotACounty, OrgNotFound, SchoolNameTaken
from enrollment.models import Org
from enrollment.orgs import repository as repo
from enrollment.orgs.importer import apply_tree
from enrollment.orgs.schemas import OrgCreate, OrgRead
from enrollment.orgs.tree import ImportReport, OrgTree
from yanxiu.kit.auth import Principal, Role
from yanxiu.kit.pagination import Page, decode_cursor, next_cursor

_DEPTH = {"province": 1, "city": 2, "county": 3, "school": 4}
_SCHOOL_NO = re.compile(r"-S(\d+)$")


def org_path(org: Org) -> list[str]:
    return [p for p in (org.province_id, org.city_id, org.county_id, org.id) if p is not None][
        : _DEPTH[org.level]
    ]


def visible(actor: Principal, org: Org) -> bool:
    """An org is visible inside the caller's subtree and on the path above it."""
    path = org_path(org)
    return actor.covers(path) or tuple(path) == actor.org_path[: len(path)]


async def get_org(session: AsyncSession, *, actor: Principal, org_id: str) -> Org:
    org = await repo.get_org(session, org_id)
    if org is None or not visible(actor, org):
        raise OrgNotFound()
    return org


async def list_orgs(
    session: AsyncSession,
    *,
    actor: Principal,
    parent_id: str | None,
    cursor: str | None,
    limit: int,
) -> Page[OrgRead]:
    """Children of an org that the caller may see: all of them inside its subtree, only the one
    on its own path above it."""
    after = decode_cursor(cursor)
    after_id = str(after) if after is not None else None
    if parent_id is not None:
        parent = await get_org(session, actor=actor, org_id=parent_id)
        if not actor.covers(org_path(parent)):
            only = actor.org_path[len(org_path(parent))]
            child = await repo.get_org(session, only)
            items = [child] if child is not None and (after_id is None or only > after_id) else []
            return Page[OrgRead](items=[OrgRead.model_validate(o) for o in items])
    rows = await repo.list_orgs(session, parent_id=parent_id, after=after_id, limit=limit + 1)
    if parent_id is None:  # the roots: only the caller's own province
        rows = [o for o in rows if visible(actor, o)]
    return Page[OrgRead](
        items=[OrgRead.model_validate(o) for o in rows[:limit]],
        next_cursor=next_cursor([o.id for o in rows], limit),
    )


async def create_school(session: AsyncSession, *, actor: Principal, data: OrgCreate) -> Org:
    """新增学校: the county admin adds a school of its county (the city or province may too)."""
    actor.ensure_role(Role.county_admin, Role.city_admin, Role.province_admin)
    county = await repo.lock_org(session, data.parent_id)
    if county is None or not visible(actor, county):
        raise OrgNotFound()
    if county.level != "county":
        raise NotACounty()
    actor.ensure_covers(org_path(county))
    name = data.name.strip()
    if await repo.child_named(session, parent_id=county.id, name=name):
        raise SchoolNameTaken(f"{county.name}已有学校“{name}”", f"{county.name} has {name!r}")
    numbers = [
        int(m.group(1))
        for i in await repo.child_ids(session, county.id)
        if (m := _SCHOOL_NO.search(i))
    ]
    school = Org(
        id=f"{county.id}-S{max(numbers, default=0) + 1:03d}",
        parent_id=county.id,
        level="school",
        name=name,
        province_id=county.province_id,
        city_id=county.city_id,
        county_id=county.id,
    )
    repo.add(session, school)
    AUDIT.add(
        session,
        actor=actor,
        action="org.create_school",
        target_type="org",
        target_id=school.id,
        target_org=org_path(school),
        after={"name": school.name, "parent_id": school.parent_id},
    )
    await session.flush()
    return school


async def import_tree(session: AsyncSession, *, tree: OrgTree, operator: str) -> ImportReport:
    """区划数据导入: a platform operator adds a region's province, cities and counties (a
    checked file). Idempotent; never moves, renames or deletes an org (`OrgTreeConflict`, and
    nothing is written). Recorded in the audit trail with the operator's name."""
    report = await session.run_sync(lambda sync: apply_tree(sync.connection(), tree))
    AUDIT.add(
        session,
        actor=None,
        actor_id=operator,
        action="org.import_tree",
        target_type="org",
        target_id=tree.province.id,
        target_org=[tree.province.id],
        after={"source": tree.source, "created": report.created, "unchanged": report.unchanged},
    )
    await session.flush()
    return report
