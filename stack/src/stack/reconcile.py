"""`yanxiu reconcile [--project ID] [--org ORG] [--repair]`: enrollment's registrations and
teachers compared with learning's plans, lessons' review pools, the dashboards' registrations
(insights) and credits' teachers, as the admin endpoint
`GET /api/v1/enrollment/projects/{id}/reconciliation` does, with the operator's database
credentials (DATABASE_URL) instead of an admin's token, over the whole platform or one org's
subtree. `--repair` re-sends enrollment's events for the drifted teachers only
(enrollment.reconcile.repair, the resync's events), committed and audited chunk by chunk; the
running relay publishes them and the consumers apply them (README, "Operations").

Each consumer's roster is read in its own schema through the columns that service declares
(learning.roster, lessons.roster, insights.roster, credits.roster), as `yanxiu resync` uses
enrollment's."""

from __future__ import annotations

import getpass
import json
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from credits.roster.repository import TEACHERS
from enrollment.audit import AUDIT
from enrollment.orgs.service import org_path
from enrollment.reconcile import repair as repairs
from enrollment.reconcile import repository as reconcile_repo
from enrollment.reconcile.schemas import ReconciliationRead, RepairRead
from enrollment.reconcile.service import report
from enrollment.reconcile.streams import Consumers, Roster, Stream, checks
from enrollment.teachers.history import ENROLLMENT_OUTBOX
from insights.roster.repository import STANDINGS
from learning.roster.repository import PLANS
from lessons.roster.repository import REVIEWERS
from yanxiu.kit.context import trace_id_var
from yanxiu.kit.db import make_engine, make_session_factory
from yanxiu.kit.roster import Digest, RosterColumns, RosterEntry, read_digests, read_page

ITEMS = 50
"""Drifted teachers the console lists per project (`--json` has the same first page)."""


@dataclass
class DbRoster:
    """A consumer's roster read from its own schema (its columns), bound to a project and scope."""

    session: AsyncSession
    columns: RosterColumns
    bound: dict[str, Any] = field(default_factory=dict)

    async def digests(self, *, prefix: int) -> list[Digest]:
        return await read_digests(self.session, self.columns, **self.bound, prefix=prefix)

    async def page(
        self,
        *,
        id_from: uuid.UUID | None,
        id_to: uuid.UUID | None,
        after: uuid.UUID | None,
        limit: int,
    ) -> list[RosterEntry]:
        return await read_page(
            self.session,
            self.columns,
            **self.bound,
            id_from=id_from,
            id_to=id_to,
            after=after,
            limit=limit,
        )


def consumers_from_db(
    session: AsyncSession, *, project_id: uuid.UUID, scope: Sequence[str]
) -> Consumers:
    in_project = {"project_id": project_id, "scope": scope}

    def roster(stream: Stream) -> Roster:
        if stream.service == "learning":
            return DbRoster(session, PLANS, in_project)
        if stream.service == "lessons":
            return DbRoster(session, REVIEWERS, in_project)
        if stream.service == "insights":
            return DbRoster(session, STANDINGS, in_project)
        return DbRoster(session, TEACHERS, {"scope": scope})

    return roster


class UnknownOrg(ValueError):
    pass


async def scope_of(session: AsyncSession, org_id: str | None) -> list[str]:
    if org_id is None:
        return []
    org = await reconcile_repo.get_org(session, org_id)
    if org is None:
        raise UnknownOrg(f"no org {org_id!r} in enrollment")
    return org_path(org)


async def reconcile(
    url: str,
    *,
    projects: list[uuid.UUID] | None,
    org_id: str | None,
    repair: bool,
    limit: int = ITEMS,
) -> list[tuple[ReconciliationRead, RepairRead | None]]:
    """Each project's report, and with `repair` what its repair re-sent."""
    engine = make_engine(url, pool_size=2)
    sessions = make_session_factory(engine)
    token = trace_id_var.set(f"reconcile-{uuid.uuid4().hex[:12]}")
    out: list[tuple[ReconciliationRead, RepairRead | None]] = []
    try:
        async with sessions() as session:
            scope = await scope_of(session, org_id)
            wanted = projects or await reconcile_repo.project_ids(session)
            await session.rollback()
        for project_id in wanted:
            async with sessions() as session:
                consumers = consumers_from_db(session, project_id=project_id, scope=scope)
                found = await report(
                    session,
                    scope=scope,
                    project_id=project_id,
                    consumers=consumers,
                    after=None,
                    limit=limit,
                )
                done = None
                if repair and not found.in_sync:
                    done = await repair_project(
                        session, sessions, project_id=project_id, scope=scope, consumers=consumers
                    )
                await session.rollback()  # the reads' transaction; every write committed its own
            out.append((found, done))
    finally:
        trace_id_var.reset(token)
        await engine.dispose()
    return out


async def repair_project(
    session: AsyncSession,
    sessions: async_sessionmaker[AsyncSession],
    *,
    project_id: uuid.UUID,
    scope: list[str],
    consumers: Consumers,
) -> RepairRead:
    """Walks the drift with the reading session; each chunk is re-sent and audited in a
    transaction of its own, so a million drifted teachers never sit in one."""
    operator = f"yanxiu reconcile ({getpass.getuser()})"

    async def write(chunk: list[repairs.TeacherDrifts]) -> tuple[repairs.Resent, int]:
        async with sessions() as own, own.begin():
            resent, unrepairable = await repairs.resend_chunk(
                own, ENROLLMENT_OUTBOX, project_id=project_id, chunk=chunk
            )
            AUDIT.add(
                own,
                actor=None,
                actor_id=operator,
                action="reconciliation.repair",
                target_type="project",
                target_id=str(project_id),
                target_org=scope,
                after={
                    "teachers": len(chunk),
                    "unrepairable": unrepairable,
                    **resent.model_dump(),
                    "teacher_ids": [str(t) for t, _ in chunk[: repairs.AUDIT_IDS]],
                },
            )
        return resent, unrepairable

    found = await checks(session, project_id=project_id, scope=scope, consumers=consumers)
    done = await repairs.repair_drift(found, write=write, max_teachers=None)
    return repairs.repair_read(project_id, scope, done)


def render(results: list[tuple[ReconciliationRead, RepairRead | None]], *, as_json: bool) -> str:
    if as_json:
        return json.dumps(
            [
                {
                    "report": r.model_dump(mode="json"),
                    "repair": d.model_dump(mode="json") if d is not None else None,
                }
                for r, d in results
            ],
            ensure_ascii=False,
            indent=1,
        )
    lines: list[str] = []
    for r, d in results:
        where = "/".join(r.scope) or "全平台 whole platform"
        lines.append(f"项目 project {r.project_id}  范围 scope {where}")
        lines.append(f"  {r.summary_zh}")
        lines.append(f"  {r.summary_en}")
        for s in r.services:
            counts = s.drift
            tail = (
                f"  缺失 missing {counts.missing}  多余 extra {counts.extra}  "
                f"机构不符 wrong org {counts.wrong_org}  状态不符 wrong status "
                f"{counts.wrong_status}"
                if counts is not None and counts.total
                else "  一致 in sync"
            )
            lines.append(
                f"  {s.label_zh} {s.label_en}: 应有 expected {s.expected}, "
                f"实有 found {s.found};{tail}"
            )
        for o in r.orgs:
            c = o.counts
            lines.append(
                f"    {o.org_name or o.org_id} ({o.org_id}) {o.service_zh}: 缺失 {c.missing} "
                f"多余 {c.extra} 机构不符 {c.wrong_org} 状态不符 {c.wrong_status}"
            )
        for item in r.items:
            kinds = ", ".join(f"{x.service_zh}{x.kind_zh} {x.kind_en}" for x in item.drifts)
            lines.append(f"    教师 teacher {item.teacher_id}: {kinds}")
        if r.next_cursor:
            lines.append(f"    … 仅列出前 {len(r.items)} 名 (first {len(r.items)} listed)")
        if d is not None:
            lines.append(f"  修复 repair: {d.message_zh}")
            lines.append(f"               {d.message_en}")
    return "\n".join(lines)
