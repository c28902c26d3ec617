"""The dashboards' read model can be rebuilt from the source services, not only from the
broker's retention, and `yanxiu reconcile` agrees with it (issue #18 point 1).

Enrollment, learning, lessons, credits and insights run with their consumers on one database
and broker. Teachers are registered (one withdrawn) through enrollment's API; insights counts
them. Then `yanxiu insights rebuild` empties the read model and has every source re-send its
state: the numbers come back the same, every tally equals the facts it is made of, and
`yanxiu reconcile` finds enrollment's registrations and the dashboards' in sync."""

from __future__ import annotations

import asyncio
import contextlib
import os
import sys
from collections.abc import AsyncIterator, Callable
from typing import Any

import httpx
import pytest_asyncio
from sqlalchemy import text

from credits.config import Settings as CreditsSettings
from credits.main import create_app as credits_app
from enrollment.config import Settings as EnrollmentSettings
from enrollment.main import create_app as enrollment_app
from insights.config import Settings as InsightsSettings
from insights.feed.tally import DRILLDOWN_COLUMNS
from insights.main import create_app as insights_app
from learning.config import Settings as LearningSettings
from learning.main import create_app as learning_app
from lessons.config import Settings as LessonsSettings
from lessons.main import create_app as lessons_app
from services.enrollment.tests.conftest import LIXIA_SCHOOL, RONGCHENG_SCHOOL, seed_orgs
from services.enrollment.tests.test_registration import add_teacher, auth, open_project
from yanxiu.devstack.paths import repo_root
from yanxiu.kit.db import make_engine
from yanxiu.testing import app_client, eventually

# Every tally equals the sum of its facts' contributions: recounted in SQL from the standings.
RECOUNT = """
WITH facts AS (
  SELECT 'p:' || project_id AS scope, province_id, city_id, county_id, school_id,
         (plan_status = 'active')::int AS plan_active, (started_at IS NOT NULL)::int AS started,
         (met_at IS NOT NULL)::int AS met
  FROM insights.standings WHERE registered_at IS NOT NULL
), counted AS (
  SELECT scope, org, metric, sum(v) AS v FROM facts,
    LATERAL (VALUES (province_id), (city_id), (county_id), (school_id)) AS o(org),
    LATERAL (VALUES ('registered', 1), ('plan_active', plan_active), ('started', started),
                    ('requirements_met', met)) AS m(metric, v)
  GROUP BY 1, 2, 3
), tallied AS (
  SELECT scope, org_id AS org, metric, sum(value) AS v FROM insights.tallies
  WHERE metric IN ('registered', 'plan_active', 'started', 'requirements_met')
  GROUP BY 1, 2, 3
)
SELECT count(*) FROM counted FULL JOIN tallied USING (scope, org, metric)
WHERE coalesce(counted.v, 0) <> coalesce(tallied.v, 0)
"""

# The roll-ups equal what they roll up: tally_totals the tallies, and every drill-down line
# the roll-up's metrics of its columns.
TOTALS_RECOUNT = """
SELECT count(*) FROM (
  SELECT scope, org_id, metric, sum(value) AS v FROM insights.tallies GROUP BY 1, 2, 3
) AS t FULL JOIN insights.tally_totals AS r USING (scope, org_id, metric)
WHERE coalesce(t.v, 0) <> coalesce(r.value, 0)
"""
LINES_RECOUNT = (
    "SELECT count(*) FROM (SELECT scope, org_id, "
    + ", ".join(
        f"coalesce(sum(value) FILTER (WHERE metric = ANY(ARRAY{list(metrics)!r})), 0) AS {c}"
        for c, metrics in DRILLDOWN_COLUMNS.items()
    )
    + " FROM insights.tally_totals GROUP BY 1, 2) AS t "
    "FULL JOIN insights.drilldown_rows AS d USING (scope, org_id) WHERE "
    + " OR ".join(f"coalesce(t.{c}, 0) <> coalesce(d.{c}, 0)" for c in DRILLDOWN_COLUMNS)
)


async def recounted(conn: Any) -> tuple[int, int, int]:
    """How many tallies, roll-up rows and drill-down lines differ from their recount."""
    return (
        await conn.scalar(text(RECOUNT)),
        await conn.scalar(text(TOTALS_RECOUNT)),
        await conn.scalar(text(LINES_RECOUNT)),
    )


@pytest_asyncio.fixture
async def platform(
    settings_for: Callable[..., Any],
) -> AsyncIterator[tuple[httpx.AsyncClient, httpx.AsyncClient]]:
    """(enrollment, insights) clients; learning, lessons and credits run their consumers."""
    async with contextlib.AsyncExitStack() as stack:
        for app, settings in (
            (learning_app, LearningSettings),
            (credits_app, CreditsSettings),
            (lessons_app, LessonsSettings),
        ):
            await stack.enter_async_context(app_client(app(settings_for(settings))))
        insights = await stack.enter_async_context(
            app_client(insights_app(settings_for(InsightsSettings)))
        )
        app = enrollment_app(settings_for(EnrollmentSettings))
        client = await stack.enter_async_context(app_client(app))
        async with app.state.runtime.session_factory() as session, session.begin():
            await seed_orgs(session)
        client.app = app  # type: ignore[attr-defined]
        yield client, insights


async def command(database_url: str, *args: str) -> tuple[int, str]:
    """A `yanxiu` command as an operator runs it, in its own process."""
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "stack.cli",
        *args,
        cwd=repo_root(),
        env={**os.environ, "DATABASE_URL": database_url},
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
    )
    out, _ = await asyncio.wait_for(proc.communicate(), 90)
    assert proc.returncode is not None
    return proc.returncode, out.decode()


async def test_the_read_model_is_rebuilt_from_the_sources_and_reconcile_agrees(
    platform: tuple[httpx.AsyncClient, httpx.AsyncClient],
    token_for: Callable[..., str],
    database_url: str,
) -> None:
    enrollment, insights = platform
    project = await open_project(enrollment, token_for)
    pid = project["id"]
    registrations = []
    for school, name in (
        (LIXIA_SCHOOL, "王芳"),
        (LIXIA_SCHOOL, "李强"),
        (LIXIA_SCHOOL, "赵敏"),
        (RONGCHENG_SCHOOL, "孙丽"),
    ):
        teacher = await add_teacher(enrollment, token_for, school, name=name)
        r = await enrollment.post(
            f"/projects/{pid}/registrations",
            json={"teacher_id": teacher["id"], "subject": "语文"},
            headers=auth(token_for("school_admin", school)),
        )
        assert r.status_code == 201, r.text
        registrations.append(r.json())
    r = await enrollment.delete(
        f"/projects/{pid}/registrations/{registrations[2]['id']}",
        headers=auth(token_for("school_admin", LIXIA_SCHOOL)),
    )
    assert r.status_code in (200, 204), r.text

    province = auth(token_for("province_admin", LIXIA_SCHOOL[:1]))

    async def numbers() -> dict[str, Any] | None:
        r = await insights.get(f"/projects/{pid}/overview", headers=province)
        if r.status_code != 200:
            return None
        cities = await insights.get(f"/projects/{pid}/orgs", headers=province)
        body = r.json()
        return {
            "funnel": body["funnel"],
            "cities": [(c["org_id"], c["registered"]) for c in cities.json()["items"]],
        }

    async def counted() -> dict[str, Any] | None:
        # Every event handled: the registrations and learning's plans (another topic).
        now = await numbers()
        done = now and now["funnel"]["registered"] == now["funnel"]["plan_active"] == 3
        return now if done else None

    before = await eventually(counted, timeout=30, interval=0.2)
    assert len(before["cities"]) == 2

    engine = make_engine(database_url, pool_size=2)
    try:
        async with engine.connect() as conn:
            assert await recounted(conn) == (0, 0, 0)
        code, out = await command(database_url, "insights", "rebuild")
        assert code == 0, out
        assert "enrollment:" in out and "TeacherRegistered" in out, out

        seen: list[dict[str, Any] | None] = []

        async def rebuilt() -> dict[str, Any] | None:
            now = await numbers()
            seen.append(now)
            return now if now == before else None

        try:
            await eventually(rebuilt, timeout=60, interval=0.3)
        except AssertionError:
            raise AssertionError(f"before {before}, last seen {seen[-1:]}") from None
        async with engine.connect() as conn:
            assert await recounted(conn) == (0, 0, 0)
    finally:
        await engine.dispose()

    code, out = await command(database_url, "reconcile", "--project", pid)
    assert code == 0 and "核对一致" in out, out
