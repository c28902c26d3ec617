"""Reconciliation benchmark (核对): enrollment's registrations and teachers against learning's
plans, lessons' review pools, the dashboards' registrations and credits' teachers at 1,000,000
teachers, all registered in one project and spread over every school of one province
(Shandong).

The rows are generated in PostgreSQL (INSERT … SELECT from generate_series: no client memory),
then the report is made as `yanxiu reconcile` makes it (enrollment.reconcile.service.report with
each consumer's own repository): once with everything in sync (digests only), then after
`--drift` teachers were damaged in learning and credits (digests, then the drifted counties read
row by row and merged), for the whole province and for one county.

    .venv/bin/python -m bench.reconcile --teachers 1000000 --drift 100

Prints the load time and the seconds of each report."""

from __future__ import annotations

import argparse
import asyncio
import time
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from sqlalchemy import text

from bench.enrollment_import import add_schools
from enrollment.reconcile.service import report
from stack.reconcile import consumers_from_db
from yanxiu.devstack.paths import data_dir, repo_root
from yanxiu.devstack.postgres import create_database, drop_database, ensure_server
from yanxiu.kit.db import asyncpg_url, make_engine, make_session_factory
from yanxiu.kit.migrations import upgrade

SERVICES = ("enrollment", "learning", "credits", "lessons", "insights")

# One project; FK triggers are off for the load (session_replication_role), so the project
# row itself is not needed: the report never reads it.
_LOAD = [
    "SET LOCAL session_replication_role = replica",
    "CREATE TEMP TABLE s AS SELECT row_number() OVER (ORDER BY id) - 1 AS n, id, province_id, "
    "city_id, county_id FROM enrollment.orgs WHERE level = 'school' AND province_id = '370000'",
    "INSERT INTO enrollment.teachers (id, name, id_number_cipher, id_number_index, gender, "
    "birth_date, stage, subject, is_rural, status, verified, version, province_id, city_id, "
    "county_id, school_id) SELECT gen_random_uuid(), '教师' || i, '\\x00'::bytea, "
    "lpad(to_hex(i), 64, '0'), 'female', date '1980-01-01' + i % 9000, 'primary', '语文', "
    "false, 'active', true, 1, s.province_id, s.city_id, s.county_id, s.id "
    "FROM generate_series(0, :n - 1) AS i JOIN s ON s.n = i % (SELECT count(*) FROM s)",
    "INSERT INTO enrollment.registrations (id, project_id, teacher_id, subject, city_id, "
    "county_id, school_id, registered_by) SELECT gen_random_uuid(), :p, id, subject, city_id, "
    "county_id, school_id, 'bench' FROM enrollment.teachers",
    "INSERT INTO learning.plans (id, teacher_id, project_id, registration_id, project_year, "
    "teacher_name, stage, subject, province_id, city_id, county_id, school_id, status) "
    "SELECT gen_random_uuid(), t.id, r.project_id, r.id, 2026, t.name, t.stage, r.subject, "
    "t.province_id, t.city_id, t.county_id, t.school_id, 'active' FROM enrollment.registrations "
    "r JOIN enrollment.teachers t ON t.id = r.teacher_id",
    "INSERT INTO lessons.reviewers (project_id, teacher_id, year, teacher_name, stage, subject, "
    "province_id, city_id, county_id, school_id, status) SELECT r.project_id, t.id, 2026, "
    "t.name, t.stage, r.subject, t.province_id, t.city_id, t.county_id, t.school_id, 'active' "
    "FROM enrollment.registrations r JOIN enrollment.teachers t ON t.id = r.teacher_id",
    "INSERT INTO insights.standings (project_id, teacher_id, year, teacher_name, "
    "province_id, city_id, county_id, school_id, stage, subject, is_rural, employment, "
    "registered_at, hours, reviews_done) SELECT r.project_id, t.id, 2026, t.name, "
    "t.province_id, t.city_id, t.county_id, t.school_id, t.stage, r.subject, false, 'active', "
    "now(), '{}', 0 FROM enrollment.registrations r JOIN enrollment.teachers t "
    "ON t.id = r.teacher_id",
    "INSERT INTO credits.teachers (teacher_id, name, province_id, city_id, county_id, "
    "school_id) SELECT id, name, province_id, city_id, county_id, school_id "
    "FROM enrollment.teachers",
]
_ANALYZE = [
    f"ANALYZE {t}"
    for t in (
        "enrollment.teachers",
        "enrollment.registrations",
        "learning.plans",
        "lessons.reviewers",
        "insights.standings",
        "credits.teachers",
    )
]
# Damage spread over the province: a quarter of the drifted teachers lose their plan, a quarter
# have it at another school, a quarter in the wrong status, a quarter are unknown to credits.
_DRIFT = [
    "CREATE TEMP TABLE d AS SELECT id, row_number() OVER () % 4 AS k FROM (SELECT id FROM "
    "enrollment.teachers ORDER BY random() LIMIT :n) AS picked",
    "DELETE FROM learning.plans p USING d WHERE p.teacher_id = d.id AND d.k = 0",
    "UPDATE learning.plans p SET school_id = school_id || '-X' FROM d "
    "WHERE p.teacher_id = d.id AND d.k = 1",
    "UPDATE learning.plans p SET status = 'withdrawn' FROM d WHERE p.teacher_id = d.id AND d.k = 2",
    "DELETE FROM credits.teachers c USING d WHERE c.teacher_id = d.id AND d.k = 3",
]


@asynccontextmanager
async def bench_database() -> AsyncIterator[str]:
    server, _ = await ensure_server(data_dir())
    name = f"yanxiu_bench_reconcile_{uuid.uuid4().hex[:6]}"
    url = asyncpg_url(await create_database(server, name))
    try:
        for service in SERVICES:
            await upgrade(repo_root() / "services" / service, url)
        yield url
    finally:
        await drop_database(server, name)


async def timed_report(url: str, project_id: uuid.UUID, scope: list[str]) -> dict[str, Any]:
    engine = make_engine(url, pool_size=1)
    try:
        async with make_session_factory(engine)() as session:
            t0 = time.perf_counter()
            found = await report(
                session,
                scope=scope,
                project_id=project_id,
                consumers=consumers_from_db(session, project_id=project_id, scope=scope),
                after=None,
                limit=100,
            )
            seconds = time.perf_counter() - t0
    finally:
        await engine.dispose()
    drift = {s.service: s.drift.total if s.drift else 0 for s in found.services}
    return {"seconds": round(seconds, 2), "in_sync": found.in_sync, "drift": drift}


async def bench(teachers: int, drift: int) -> dict[str, Any]:
    async with bench_database() as url:
        await add_schools(url, max(1, min(60, teachers // 10_000)))
        project_id = uuid.uuid4()
        engine = make_engine(url, pool_size=1)
        try:
            t0 = time.perf_counter()
            async with engine.begin() as conn:
                for sql in _LOAD:
                    await conn.execute(text(sql), {"n": teachers, "p": project_id})
            async with engine.connect() as conn:
                await conn.execution_options(isolation_level="AUTOCOMMIT")
                for sql in _ANALYZE:
                    await conn.execute(text(sql))
                province = await conn.scalar(text("SELECT province_id FROM enrollment.teachers"))
            load_s = time.perf_counter() - t0
            clean = await timed_report(url, project_id, [province])
            async with engine.begin() as conn:
                for sql in _DRIFT:
                    await conn.execute(text(sql), {"n": drift})
                # A county with drift, for the county admin's report.
                city, county = (
                    await conn.execute(
                        text(
                            "SELECT t.city_id, t.county_id FROM d JOIN enrollment.teachers t "
                            "ON t.id = d.id LIMIT 1"
                        )
                    )
                ).one()
        finally:
            await engine.dispose()
        drifted = await timed_report(url, project_id, [province])
        one_county = await timed_report(url, project_id, [province, city, county])
    return {
        "teachers": teachers,
        "load_s": round(load_s, 1),
        "province_in_sync": clean,
        "province_drifted": drifted,
        "county_drifted": one_county,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--teachers", type=int, default=1_000_000)
    parser.add_argument("--drift", type=int, default=100)
    args = parser.parse_args()
    print(asyncio.run(bench(args.teachers, args.drift)))


if __name__ == "__main__":
    main()
