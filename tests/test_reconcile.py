"""核对 (issue #14, point 6): enrollment's registrations and teachers are compared with learning's
plans, lessons' review pools and credits' teachers on the real platform (every service and the
gateway served, real broker), per project and org. Drift made directly in the consumers'
databases — rows deleted, one moved to the wrong school, one in the wrong status, a registration
gone from the source — is reported exactly, to each admin inside its own subtree only; a repair
re-sends enrollment's events for the drifted teachers through the outbox, after which the report
is clean. `yanxiu reconcile` does the same with the operator's database credentials."""

from __future__ import annotations

import asyncio
import os
import sys
from collections.abc import AsyncIterator
from typing import Any

import pytest_asyncio
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from tests.province.world import CITY_B, COUNTY_A, COUNTY_A2, COUNTY_B, PROVINCE, World
from yanxiu.devstack.paths import repo_root
from yanxiu.kit.db import make_engine
from yanxiu.testing import eventually


@pytest_asyncio.fixture
async def db(database_url: str) -> AsyncIterator[AsyncEngine]:
    engine = make_engine(database_url, pool_size=2)
    try:
        yield engine
    finally:
        await engine.dispose()


async def report(w: World, actor: str, **params: Any) -> dict[str, Any]:
    path = f"/api/v1/enrollment/projects/{w.ids['project']}/reconciliation"
    found: dict[str, Any] = await w.call(actor, "GET", path, params=params)
    return found


def drift_of(found: dict[str, Any]) -> dict[str, dict[str, int]]:
    """Per service, the counts of each kind that occurs."""
    return {
        s["service"]: {k: n for k, n in s["drift"].items() if n and k != "total"}
        for s in found["services"]
        if s["drift"] and s["drift"]["total"]
    }


def teachers_of(found: dict[str, Any]) -> dict[str, list[tuple[str, str]]]:
    return {
        item["teacher_id"]: sorted((d["service"], d["kind"]) for d in item["drifts"])
        for item in found["items"]
    }


async def run_cli(database_url: str, *args: str) -> tuple[int, str]:
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "stack.cli",
        "reconcile",
        *args,
        cwd=repo_root(),
        env={**os.environ, "DATABASE_URL": database_url},
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
    )
    out, _ = await asyncio.wait_for(proc.communicate(), 120)
    return int(proc.returncode or 0), out.decode()


async def one_more_registration(w: World, db: AsyncEngine) -> str:
    """A fresh teacher of school A1, registered through the API; returns the teacher id."""
    registration = await w.new_registration()
    async with db.connect() as conn:
        teacher = await conn.scalar(
            text("SELECT teacher_id FROM enrollment.registrations WHERE id = :r"),
            {"r": registration},
        )
    return str(teacher)


async def test_drift_is_reported_exactly_inside_each_admins_subtree_and_repaired(
    world: World, db: AsyncEngine, database_url: str
) -> None:
    w = world
    project = w.ids["project"]
    t1b, t2, tb = w.teachers["T1b"], w.teachers["T2"], w.teachers["TB"]
    n1 = await one_more_registration(w, db)
    # A registered teacher who left (离职): learning suspends the plan, lessons takes the member
    # out of the pools (both "departed"), as enrollment expects: no drift.
    n2 = await one_more_registration(w, db)
    await w.call("school_admin", "POST", f"/api/v1/enrollment/teachers/{n2}/depart")

    # A platform built through its API is in sync, once every consumer has caught up.
    async def clean(actor: str = "province") -> dict[str, Any] | None:
        found = await report(w, actor)
        # In sync, and no change landing between the digests and the rows (the report then
        # says in sync from the rows while its digest counts still differ).
        settled = all(s["expected"] == s["found"] for s in found["services"])
        return found if found["in_sync"] and settled else None

    baseline = await eventually(clean, timeout=30, interval=0.3)
    learning = next(s for s in baseline["services"] if s["service"] == "learning")
    assert learning["expected"] == learning["found"] == 6
    assert baseline["items"] == [] and baseline["summary_zh"].startswith("核对一致")

    # Each service answers for its own rows, under the caller's org only.
    plans = f"/api/v1/learning/projects/{project}/roster"
    mine = await w.call("county_admin", "GET", plans)
    assert {e["teacher_id"] for e in mine["items"]} == {w.teachers["T1"], t1b, t2, n1, n2}
    assert {e["status"] for e in mine["items"] if e["teacher_id"] == n2} == {"departed"}
    assert {e["county_id"] for e in mine["items"]} == {COUNTY_A}
    assert (await w.call("county_admin_other", "GET", plans))["items"] == []
    known = await w.call("county_admin_b", "GET", "/api/v1/credits/roster")
    assert [e["teacher_id"] for e in known["items"]] == [tb]

    # Drift, made where no event tells anyone.
    async with db.begin() as conn:
        await conn.execute(
            text("DELETE FROM learning.plans WHERE teacher_id = :t"), {"t": t1b}
        )  # missing
        await conn.execute(
            text("UPDATE learning.plans SET school_id = :s WHERE teacher_id = :t"),
            {"s": w.schools["A1"], "t": t2},
        )  # T2 (school A2) held at A1: wrong org
        await conn.execute(text("DELETE FROM credits.teachers WHERE teacher_id = :t"), {"t": t2})
        await conn.execute(
            text("UPDATE lessons.reviewers SET status = 'withdrawn' WHERE teacher_id = :t"),
            {"t": tb},
        )  # TB of city B, still registered: wrong status
        await conn.execute(
            text("DELETE FROM enrollment.registrations WHERE teacher_id = :t"), {"t": n1}
        )  # the source forgot N1's registration: learning and lessons hold an extra member

    # County A's admin sees its own drift exactly, per school, and nothing of city B.
    county = await report(w, "county_admin")
    assert county["scope"] == [PROVINCE, w.path("county_admin")[1], COUNTY_A]
    assert not county["in_sync"]
    assert drift_of(county) == {
        "learning": {"missing": 1, "wrong_org": 1, "extra": 1},
        "lessons": {"extra": 1},
        "insights": {"extra": 1},  # the dashboards still count N1
        "credits": {"missing": 1},
    }
    assert teachers_of(county) == {
        t1b: [("learning", "missing")],
        t2: [("credits", "missing"), ("learning", "wrong_org")],
        n1: [("insights", "extra"), ("learning", "extra"), ("lessons", "extra")],
    }
    by_school = {(o["org_id"], o["service"]): o["counts"]["total"] for o in county["orgs"]}
    assert by_school == {
        (w.schools["A1"], "learning"): 2,  # T1b missing, N1 extra
        (w.schools["A1"], "lessons"): 1,
        (w.schools["A1"], "insights"): 1,
        (w.schools["A2"], "learning"): 1,  # T2 belongs at A2
        (w.schools["A2"], "credits"): 1,
    }
    assert {o["level"] for o in county["orgs"]} == {"school"}
    assert all(o["org_name"] for o in county["orgs"])
    moved = next(
        d
        for d in next(i for i in county["items"] if i["teacher_id"] == t2)["drifts"]
        if d["service"] == "learning"
    )
    assert moved["kind_zh"] == "机构不符" and moved["kind_en"] == "wrong org"
    assert moved["expected"]["school_id"] == w.schools["A2"]
    assert moved["found"]["school_id"] == w.schools["A1"]

    # Another county's admin, of the same city, sees none of it; city B's sees only TB.
    other = await report(w, "county_admin_other")
    assert other["in_sync"] and other["items"] == [] and other["orgs"] == []
    assert other["scope"][-1] == COUNTY_A2
    city_b = await report(w, "county_admin_b")
    assert teachers_of(city_b) == {tb: [("lessons", "wrong_status")]}
    assert city_b["scope"] == [PROVINCE, CITY_B, COUNTY_B]

    # The province sees all of it, per city, and pages through the teachers.
    province = await report(w, "province")
    assert drift_of(province)["lessons"] == {"extra": 1, "wrong_status": 1}
    assert {o["level"] for o in province["orgs"]} == {"city"}
    pages: list[str] = []
    cursor = None
    while True:
        page = await report(w, "province", limit=1, **({"cursor": cursor} if cursor else {}))
        assert len(page["items"]) <= 1
        pages += [i["teacher_id"] for i in page["items"]]
        cursor = page["next_cursor"]
        if not cursor:
            break
    assert pages == sorted(teachers_of(province)) == sorted([t1b, t2, n1, tb])

    # Who may not reconcile: a school admin, a teacher.
    for actor in ("school_admin", "teacher_self"):
        r = await w.client.get(
            f"/api/v1/enrollment/projects/{project}/reconciliation", headers=w.auth(actor)
        )
        assert r.status_code == 403, r.text
        assert r.json()["code"] == "roster_not_allowed"

    # County A repairs its own drift: enrollment's events for those three teachers only,
    # through the outbox, and audited.
    async with db.connect() as conn:
        last_event = await conn.scalar(text("SELECT coalesce(max(id), 0) FROM enrollment.outbox"))
    repaired = await w.call(
        "county_admin",
        "POST",
        f"/api/v1/enrollment/projects/{project}/reconciliation/repair",
    )
    assert repaired["teachers"] == 3 and repaired["unrepairable"] == 0 and not repaired["more"]
    assert repaired["resent"] == {
        "teacher_updated": 3,
        "teacher_registered": 2,  # T1b and T2; N1 is no longer registered
        "teacher_withdrawn": 1,  # N1, told again
    }
    async with db.connect() as conn:
        sent = (
            await conn.execute(
                text("SELECT event_type, key FROM enrollment.outbox WHERE id > :after ORDER BY id"),
                {"after": last_event},
            )
        ).all()
    assert sorted(sent) == sorted(
        [
            ("enrollment.teacher_updated", t1b),
            ("enrollment.teacher_updated", t2),
            ("enrollment.teacher_updated", n1),
            ("enrollment.teacher_registered", t1b),
            ("enrollment.teacher_registered", t2),
            ("enrollment.teacher_withdrawn", n1),
        ]
    )

    async def county_clean() -> dict[str, Any] | None:
        return await clean("county_admin")

    await eventually(county_clean, timeout=30, interval=0.3)
    audit = await w.call(
        "county_admin",
        "GET",
        "/api/v1/enrollment/audit",
        params={"action": "reconciliation.repair"},
    )
    [entry] = audit["items"]
    assert entry["target_id"] == project
    assert entry["after"]["teachers"] == 3
    assert sorted(entry["after"]["teacher_ids"]) == sorted([t1b, t2, n1])

    # The province still sees city B's drift; the operator's command reports it, then repairs it.
    assert teachers_of(await report(w, "province")) == {tb: [("lessons", "wrong_status")]}
    code, out = await run_cli(database_url, "--project", project)
    assert code == 1, out
    assert "观评课评审库" in out and "状态不符" in out and tb in out, out
    code, out = await run_cli(database_url, "--project", project, "--org", COUNTY_B, "--repair")
    assert code == 0, out
    assert "已为 1 名教师重发 2 条事件" in out, out
    await eventually(clean, timeout=30, interval=0.3)
    code, out = await run_cli(database_url, "--project", project)
    assert code == 0 and "核对一致" in out, out
