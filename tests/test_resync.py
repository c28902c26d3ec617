"""`yanxiu resync --from enrollment` rebuilds consumers' read models through the real broker when
the events that built them are gone: learning's plans and credits' teachers are wiped, the
command makes enrollment send its current state again, and the running services' consumers
rebuild both. A second resync changes nothing (every re-sent fact is an upsert); a withdrawn
registration is not brought back; lessons' review pools, not wiped, come out the same."""

from __future__ import annotations

import asyncio
import contextlib
import os
import sys
from collections.abc import AsyncIterator, Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest_asyncio
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from credits.config import Settings as CreditsSettings
from credits.main import create_app as credits_app
from enrollment.config import Settings as EnrollmentSettings
from enrollment.main import create_app as enrollment_app
from learning.config import Settings as LearningSettings
from learning.main import create_app as learning_app
from lessons.config import Settings as LessonsSettings
from lessons.main import create_app as lessons_app
from services.enrollment.tests.conftest import LIXIA_SCHOOL, RONGCHENG_SCHOOL, seed_orgs
from services.enrollment.tests.test_registration import add_teacher, auth, open_project
from stack.resync import resync
from yanxiu.devstack.paths import repo_root
from yanxiu.kit.db import make_engine
from yanxiu.testing import app_client, eventually

READ_MODELS = {
    "plans": "SELECT teacher_id, project_id, registration_id, teacher_name, stage, subject, "
    "school_id, status FROM learning.plans ORDER BY 1, 2",
    "credit_teachers": "SELECT teacher_id, name, province_id, city_id, county_id, school_id "
    "FROM credits.teachers ORDER BY 1",
    "org_teachers": "SELECT level, org_id, teachers FROM credits.org_teachers "
    "WHERE teachers > 0 ORDER BY 1, 2",
    "reviewers": "SELECT project_id, teacher_id, teacher_name, school_id, status "
    "FROM lessons.reviewers ORDER BY 1, 2",
}


@pytest_asyncio.fixture
async def platform(
    settings_for: Callable[..., Any],
) -> AsyncIterator[httpx.AsyncClient]:
    """Enrollment (served to the test), and learning, credits and lessons running their
    consumers, all on this test's database and broker."""
    async with contextlib.AsyncExitStack() as stack:
        for app, settings in (
            (learning_app, LearningSettings),
            (credits_app, CreditsSettings),
            (lessons_app, LessonsSettings),
        ):
            await stack.enter_async_context(app_client(app(settings_for(settings))))
        app = enrollment_app(settings_for(EnrollmentSettings))
        client = await stack.enter_async_context(app_client(app))
        async with app.state.runtime.session_factory() as session, session.begin():
            await seed_orgs(session)
        client.app = app  # type: ignore[attr-defined]
        yield client


async def read(engine: AsyncEngine) -> dict[str, list[tuple[Any, ...]]]:
    async with engine.connect() as conn:
        return {
            name: [tuple(r) for r in (await conn.execute(text(sql))).all()]
            for name, sql in READ_MODELS.items()
        }


async def inbox_counts(engine: AsyncEngine) -> dict[str, int]:
    async with engine.connect() as conn:
        return {
            schema: int(await conn.scalar(text(f"SELECT count(*) FROM {schema}.inbox")) or 0)
            for schema in ("learning", "credits", "lessons")
        }


async def run_resync(database_url: str, *args: str) -> str:
    """The command as an operator runs it, in its own process."""
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "stack.cli",
        "resync",
        "--from",
        "enrollment",
        *args,
        cwd=repo_root(),
        env={**os.environ, "DATABASE_URL": database_url},
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
    )
    out, _ = await asyncio.wait_for(proc.communicate(), 60)
    assert proc.returncode == 0, out.decode()
    return out.decode()


async def test_a_wiped_read_model_is_rebuilt_from_the_source_through_the_broker(
    platform: httpx.AsyncClient, token_for: Callable[..., str], database_url: str
) -> None:
    client = platform
    project = await open_project(client, token_for)
    teachers = [
        await add_teacher(client, token_for, school, name=name)
        for school, name in (
            (LIXIA_SCHOOL, "王芳"),
            (LIXIA_SCHOOL, "李强"),
            (LIXIA_SCHOOL, "赵敏"),
            (RONGCHENG_SCHOOL, "孙丽"),
            (RONGCHENG_SCHOOL, "周杰"),  # never registered: known to credits all the same
        )
    ]
    registrations = []
    for teacher, school in zip(teachers[:4], [LIXIA_SCHOOL] * 3 + [RONGCHENG_SCHOOL], strict=True):
        r = await client.post(
            f"/projects/{project['id']}/registrations",
            json={"teacher_id": teacher["id"], "subject": "语文"},
            headers=auth(token_for("school_admin", school)),
        )
        assert r.status_code == 201, r.text
        registrations.append(r.json())
    withdrawn = await client.delete(
        f"/projects/{project['id']}/registrations/{registrations[2]['id']}",
        headers=auth(token_for("school_admin", LIXIA_SCHOOL)),
    )
    assert withdrawn.status_code in (200, 204), withdrawn.text

    engine = make_engine(database_url, pool_size=2)
    try:

        async def settled() -> dict[str, list[tuple[Any, ...]]] | None:
            now = await read(engine)
            statuses = sorted(p[-1] for p in now["plans"])
            ready = (
                statuses == ["active", "active", "active", "withdrawn"]
                and len(now["credit_teachers"]) == 5
                and sorted(r[-1] for r in now["reviewers"]) == statuses
            )
            return now if ready else None

        before = await eventually(settled, timeout=30, interval=0.2)

        # The read models are lost, and the broker is no help (its history is gone too).
        async with engine.begin() as conn:
            await conn.execute(text("DELETE FROM learning.plans"))
            await conn.execute(text("DELETE FROM credits.teachers"))
        assert (await read(engine))["plans"] == []

        out = await run_resync(database_url)
        assert "5 TeacherUpdated, 3 TeacherRegistered" in out, out

        active = [p for p in before["plans"] if p[-1] == "active"]

        async def rebuilt() -> dict[str, list[tuple[Any, ...]]] | None:
            now = await read(engine)
            whole = now["plans"] == active and now["credit_teachers"] == before["credit_teachers"]
            return now if whole else None

        after = await eventually(rebuilt, timeout=30, interval=0.2)
        # Credits' per-org denominators follow the rebuilt teachers; lessons' pools, not
        # wiped, took the re-sent registrations as no-ops (the withdrawn one stays withdrawn).
        assert after["org_teachers"] == before["org_teachers"]
        assert after["reviewers"] == before["reviewers"]

        # Again: nothing changes, nothing doubles, once every consumer has applied it all
        # (learning, credits and lessons each take all 8).
        seen = await inbox_counts(engine)
        await run_resync(database_url)
        expected = {name: count + 8 for name, count in seen.items()}

        async def applied() -> bool:
            return await inbox_counts(engine) == expected

        await eventually(applied, timeout=30, interval=0.2)
        assert await read(engine) == after
        async with engine.connect() as conn:
            unsent = await conn.scalar(
                text("SELECT count(*) FROM enrollment.outbox WHERE published_at IS NULL")
            )
        assert unsent == 0  # everything re-sent went through the relay

        # --since: only what changed since then (nothing, an hour from now).
        later = datetime.now(UTC) + timedelta(hours=1)
        assert await resync(database_url, source="enrollment", since=later) == {
            "teacher_updated": 0,
            "teacher_registered": 0,
        }
    finally:
        await engine.dispose()
