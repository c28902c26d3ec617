"""项目归属: who runs a project (from enrollment's `ProjectOpened`) and so who may set its rules.

- A project whose owner learning knows: its rules are set by a province admin of the owner's
  province or a city admin of the owning city (the admin's org path a prefix of the owner's
  path); any other admin is refused (403 `not_project_owner`). Admins read its rules when their
  subtree and the owner's overlap (a Hefei county admin reads Hefei's rules; a Shandong admin
  gets 404 `project_not_found` for them); teachers and other roles read them as before.
- The legacy rule: a project learning never learned (no ProjectOpened yet, or one sent before
  enrollment named owners) has an unknown owner and behaves as before owners existed: any
  province admin may set its rules and anyone signed in may read them. No city admin can set
  them, so an unknown owner never widens who may write."""

from __future__ import annotations

import uuid
from collections.abc import Sequence

from sqlalchemy.ext.asyncio import AsyncSession

from learning.rules import repository as repo
from learning.rules.errors import NotProjectOwner, ProjectNotFound
from yanxiu.contracts.enrollment import ProjectOpened
from yanxiu.kit.auth import Principal, Role
from yanxiu.kit.reads import Db, Reader


async def learn_project(session: AsyncSession, event: ProjectOpened) -> None:
    """Stores or refreshes the project's read model; idempotent."""
    await repo.learn_project(
        session,
        project_id=event.project_id,
        year=event.year,
        stage=event.stage,
        owner_org_id=event.owner_org_id,
        owner_org_path=list(event.owner_org_path) if event.owner_org_path else None,
        rule_set=event.rule_set,
    )


async def owner_path(db: Db, project_id: uuid.UUID) -> list[str] | None:
    """The owner's org path, or None when learning does not know it (the legacy rule)."""
    project = await repo.get_project(db, project_id)
    return list(project.owner_org_path) if project and project.owner_org_path else None


async def ensure_may_assign(
    session: AsyncSession, *, actor: Principal, project_id: uuid.UUID
) -> None:
    actor.ensure_role(Role.province_admin, Role.city_admin)
    owner = await owner_path(session, project_id)
    if owner is None:
        actor.ensure_role(Role.province_admin)
    elif not actor.covers(owner):
        raise NotProjectOwner()


async def ensure_may_read(reader: Reader, *, actor: Principal, project_id: uuid.UUID) -> None:
    if not actor.is_admin:
        return
    owner = await owner_path(reader, project_id)
    if owner is not None and not _overlap(actor.org_path, owner):
        raise ProjectNotFound()


def _overlap(a: Sequence[str], b: Sequence[str]) -> bool:
    """One path lies inside the other's subtree."""
    n = min(len(a), len(b))
    return n > 0 and tuple(a[:n]) == tuple(b[:n])
