"""Orgs' names for the dashboards. Events carry ids only; enrollment owns the org tree and
serves its names (`GET /orgs/{id}`, `GET /orgs?parent_id=`), asked with the caller's own token
so that enrollment applies its own scope. Answers are kept in insights.org_names for a day.

A name enrollment cannot give (enrollment down, an org it does not know) is shown as the id:
the numbers never wait for a label."""

from __future__ import annotations

import logging
from collections.abc import Iterable
from datetime import UTC, datetime, timedelta

import httpx
from pydantic import BaseModel, ValidationError
from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from insights.models import OrgName

log = logging.getLogger(__name__)
FRESH_FOR = timedelta(days=1)
PAGE = 200


class _Org(BaseModel):
    id: str
    parent_id: str | None
    level: str
    name: str


class _Orgs(BaseModel):
    items: list[_Org]
    next_cursor: str | None = None


class OrgNames:
    def __init__(self, session: AsyncSession, *, base_url: str, token: str, timeout: float) -> None:
        self.session = session
        self.base_url = base_url.rstrip("/")
        self.token = token
        self.timeout = timeout

    async def names(
        self, org_ids: Iterable[str], *, parent_id: str | None = None
    ) -> dict[str, str]:
        """Names by id; `parent_id`: the orgs are that org's children (one listing for all)."""
        wanted = set(org_ids)
        if not wanted:
            return {}
        known = await self._known(wanted)
        missing = wanted - set(known)
        if missing:
            fetched = await self._fetch(missing, parent_id=parent_id)
            known.update(fetched)
        return {org: known.get(org, org) for org in wanted}

    async def _known(self, org_ids: set[str]) -> dict[str, str]:
        fresh_since = datetime.now(UTC) - FRESH_FOR
        rows = await self.session.execute(
            select(OrgName.org_id, OrgName.name).where(
                OrgName.org_id.in_(org_ids), OrgName.fetched_at > fresh_since
            )
        )
        return {org: name for org, name in rows.all()}

    async def _fetch(self, org_ids: set[str], *, parent_id: str | None) -> dict[str, str]:
        headers = {"Authorization": f"Bearer {self.token}", "Accept": "application/json"}
        found: list[_Org] = []
        try:
            async with httpx.AsyncClient(
                base_url=self.base_url, timeout=self.timeout, headers=headers
            ) as http:
                if parent_id is not None and len(org_ids) > 2:
                    cursor: str | None = None
                    while True:
                        params: dict[str, str | int] = {"parent_id": parent_id, "limit": PAGE}
                        if cursor:
                            params["cursor"] = cursor
                        answer = await http.get("/orgs", params=params)
                        if answer.status_code != 200:
                            break
                        page = _Orgs.model_validate_json(answer.content)
                        found += page.items
                        cursor = page.next_cursor
                        if not cursor:
                            break
                else:
                    for org in sorted(org_ids):
                        answer = await http.get(f"/orgs/{org}")
                        if answer.status_code == 200:
                            found.append(_Org.model_validate_json(answer.content))
        except (httpx.HTTPError, ValidationError) as exc:
            log.warning("org names unavailable", extra={"error": repr(exc)})
        if found:
            now = datetime.now(UTC)
            rows = [
                {
                    "org_id": o.id,
                    "parent_id": o.parent_id,
                    "level": o.level,
                    "name": o.name,
                    "fetched_at": now,
                }
                for o in {o.id: o for o in found}.values()
            ]
            stmt = insert(OrgName).values(sorted(rows, key=lambda r: r["org_id"]))
            await self.session.execute(
                stmt.on_conflict_do_update(
                    index_elements=[OrgName.org_id],
                    set_={
                        k: stmt.excluded[k] for k in ("parent_id", "level", "name", "fetched_at")
                    },
                )
            )
        return {o.id: o.name for o in found}
