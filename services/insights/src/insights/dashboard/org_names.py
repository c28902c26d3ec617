"""Orgs' names for the dashboards. Events carry ids only; enrollment owns the org tree and
serves its names (`GET /orgs/{id}`, `GET /orgs?parent_id=`), asked with the caller's own token
so that enrollment applies its own scope. Answers are kept in insights.org_names for a day, and
in the process (DashboardMemo) for an hour: a dashboard request usually reads no name at all.

A name enrollment cannot give (enrollment down, an org it does not know) is shown as the id:
the numbers never wait for a label."""

from __future__ import annotations

import logging
from collections.abc import Iterable
from datetime import UTC, datetime, timedelta

import httpx
from pydantic import BaseModel, ValidationError
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from insights.dashboard import repository as repo
from insights.dashboard.memo import Memo
from insights.models import OrgName
from yanxiu.kit.reads import DriverReads

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
    def __init__(
        self,
        db: DriverReads,
        sessions: async_sessionmaker[AsyncSession],
        memo: Memo[str],
        *,
        base_url: str,
        token: str,
        timeout: float,
    ) -> None:
        self.db = db
        self.sessions = sessions
        self.memo = memo
        self.base_url = base_url.rstrip("/")
        self.token = token
        self.timeout = timeout

    async def names(
        self, org_ids: Iterable[str], *, parent_id: str | None = None
    ) -> dict[str, str]:
        """Names by id; `parent_id`: the orgs are that org's children (one listing for all)."""
        wanted = set(org_ids)
        known: dict[str, str] = {}
        for org in wanted:
            name = self.memo.get(org)
            if name is not None:
                known[org] = name
        missing = wanted - set(known)
        if missing:
            stored = await repo.names(self.db, sorted(missing), datetime.now(UTC) - FRESH_FOR)
            missing -= set(stored)
            if missing:
                stored.update(await self._fetch(missing, parent_id=parent_id))
            for org, name in stored.items():
                self.memo.put(org, name)
            known.update(stored)
        return {org: known.get(org, org) for org in wanted}

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
            async with self.sessions() as session, session.begin():
                await session.execute(
                    stmt.on_conflict_do_update(
                        index_elements=[OrgName.org_id],
                        set_={
                            k: stmt.excluded[k]
                            for k in ("parent_id", "level", "name", "fetched_at")
                        },
                    )
                )
        return {o.id: o.name for o in found}
