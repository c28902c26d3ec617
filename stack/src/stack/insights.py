"""`yanxiu insights rebuild`: the dashboards' read model built again from the source services,
not from the broker's retention (which may no longer hold the history).

1. In one transaction, insights' facts and tallies are emptied, and its projects are made
   whole from enrollment's (a project opened before insights ran was never an event it saw).
2. Each source service writes its current state into its own outbox (`yanxiu resync`:
   enrollment, learning, lessons, credits); the running relays publish it, and the insights
   consumer applies each snapshot as it applies every event.

While it fills, the dashboards show partial numbers; `yanxiu reconcile` compares the result
with enrollment's registrations, and the tallies always equal their facts (a recount)."""

from __future__ import annotations

from sqlalchemy import select, text
from sqlalchemy.dialects.postgresql import insert

from enrollment.models import Project as SourceProject
from insights.models import (
    Completion,
    Daily,
    DrilldownRow,
    Lesson,
    OfflineRecord,
    Project,
    Review,
    ReviewLoad,
    Standing,
    Tally,
    TallyTotal,
    TeacherYear,
)
from stack.resync import SOURCES, resync
from yanxiu.kit.db import make_engine

EMPTIED = (
    Standing,
    Completion,
    Review,
    ReviewLoad,
    TeacherYear,
    OfflineRecord,
    Lesson,
    Tally,
    TallyTotal,
    DrilldownRow,
    Daily,
)


async def empty_read_model(url: str) -> int:
    """Empties the facts and tallies; returns how many projects insights now knows."""
    engine = make_engine(url, pool_size=1)
    try:
        async with engine.begin() as conn:
            tables = ", ".join(f"insights.{m.__tablename__}" for m in EMPTIED)
            await conn.execute(text(f"TRUNCATE {tables}"))
            rows = (
                await conn.execute(
                    select(
                        SourceProject.id,
                        SourceProject.name,
                        SourceProject.year,
                        SourceProject.stage,
                        SourceProject.owner_org_id,
                        SourceProject.registration_opens_on,
                    )
                )
            ).all()
            for pid, name, year, stage, owner, opens in rows:
                stmt = insert(Project).values(
                    project_id=pid,
                    name=name,
                    year=year,
                    stage=stage,
                    owner_org_id=owner,
                    opened_at=text(f"DATE '{opens.isoformat()}' AT TIME ZONE 'Asia/Shanghai'"),
                )
                await conn.execute(
                    stmt.on_conflict_do_update(
                        index_elements=[Project.project_id],
                        set_={"name": name, "year": year, "stage": stage, "owner_org_id": owner},
                    )
                )
            return len(rows)
    finally:
        await engine.dispose()


async def rebuild(url: str) -> dict[str, dict[str, int]]:
    """Empties the read model, then has every source re-send its state; returns what each
    source wrote to its outbox."""
    projects = await empty_read_model(url)
    counts: dict[str, dict[str, int]] = {"insights": {"project_known": projects}}
    for source in SOURCES:
        counts[source] = await resync(url, source=source, since=None)
    return counts
