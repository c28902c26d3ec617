"""Registration list paging benchmark (报名名单): one city's registrations, page after page, at
1,000,000 teachers and 1,000,000 registrations across the province.

Teachers and registrations are bulk-loaded with COPY (binary, one stream per table), then
`GET /projects/{id}/registrations?city_id=…&limit=100` is walked to the end through its use case
(`enrollment.registration.service.list_registrations`: scope check, keyset query on
(project_id, city_id, id), cursor), one session per page as a request would have.

    .venv/bin/python -m bench.enrollment_pages --teachers 1000000

Prints the load time and p50/p99 ms per page (target < 50 ms per page).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import time
import uuid
from datetime import date, timedelta
from typing import Any

import asyncpg
from sqlalchemy import text

from bench.enrollment_import import add_schools, bench_database
from enrollment.models import Project
from enrollment.registration import service as registration
from yanxiu.kit.auth import Principal, Role
from yanxiu.kit.db import make_engine, make_session_factory

PROVINCE = "370000"  # Shandong: the teachers and the project are its own

SUBJECTS = ["语文", "数学", "英语", "科学", "音乐", "体育", "美术"]
TEACHER_COLUMNS = (
    "id",
    "name",
    "id_number_cipher",
    "id_number_index",
    "gender",
    "birth_date",
    "stage",
    "subject",
    "is_rural",
    "status",
    "verified",
    "version",
    "province_id",
    "city_id",
    "county_id",
    "school_id",
)
REGISTRATION_COLUMNS = (
    "id",
    "project_id",
    "teacher_id",
    "subject",
    "city_id",
    "county_id",
    "school_id",
    "registered_by",
)


async def drop_secondary_indexes(conn: asyncpg.Connection) -> list[str]:
    """Drops the plain (non-constraint) indexes of teachers and registrations; returns the
    statements that recreate them."""
    rows = await conn.fetch(
        "SELECT i.indexname, i.indexdef FROM pg_indexes i WHERE i.schemaname = 'enrollment' "
        "AND i.tablename IN ('teachers', 'registrations') AND NOT EXISTS (SELECT 1 FROM "
        "pg_constraint c WHERE c.conname = i.indexname AND c.connamespace = "
        "'enrollment'::regnamespace)"
    )
    for r in rows:
        await conn.execute(f'DROP INDEX enrollment."{r["indexname"]}"')
    return [r["indexdef"] for r in rows]


def pct(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(p / 100 * (len(ordered) - 1)))]


async def load(url: str, teachers: int, project_id: uuid.UUID) -> tuple[str, int]:
    """COPY `teachers` teachers spread over every school of the province, each registered in the
    project; returns the busiest city and its registration count."""
    schools_per_county = max(1, min(20, teachers // 2000))
    await add_schools(url, schools_per_county)
    conn = await asyncpg.connect(url.replace("postgresql+asyncpg://", "postgresql://"))
    try:
        schools = await conn.fetch(
            "SELECT id, province_id, city_id, county_id FROM enrollment.orgs "
            "WHERE level = 'school' AND province_id = $1 ORDER BY id",
            PROVINCE,
        )
        cipher = os.urandom(45)  # the size of a real ciphertext; never decrypted here
        born = date(1980, 1, 1)
        teacher_rows: list[tuple[Any, ...]] = []
        registration_rows: list[tuple[Any, ...]] = []
        per_city: dict[str, int] = {}
        for i in range(teachers):
            school = schools[i % len(schools)]
            tid = uuid.uuid4()
            subject = SUBJECTS[i % len(SUBJECTS)]
            teacher_rows.append(
                (
                    tid,
                    f"教师{i}",
                    cipher,
                    f"{i:064x}",
                    "female" if i % 2 else "male",
                    born + timedelta(days=i % 9000),
                    "primary",
                    subject,
                    i % 3 == 0,
                    "active",
                    True,
                    1,
                    school["province_id"],
                    school["city_id"],
                    school["county_id"],
                    school["id"],
                )
            )
            registration_rows.append(
                (
                    uuid.uuid4(),
                    project_id,
                    tid,
                    subject,
                    school["city_id"],
                    school["county_id"],
                    school["id"],
                    "bench",
                )
            )
            per_city[school["city_id"]] = per_city.get(school["city_id"], 0) + 1
        async with conn.transaction():
            # A bulk load: secondary indexes are built once afterwards (a sorted build, not a
            # million insertions), and FK triggers are skipped where the role may (the rows are
            # generated consistent). Unique constraints and primary keys stay in force.
            recreate = await drop_secondary_indexes(conn)
            if await conn.fetchval("SELECT rolsuper FROM pg_roles WHERE rolname = current_user"):
                await conn.execute("SET LOCAL session_replication_role = replica")
            await conn.execute("SET LOCAL maintenance_work_mem = '256MB'")
            await conn.copy_records_to_table(
                "teachers", schema_name="enrollment", columns=TEACHER_COLUMNS, records=teacher_rows
            )
            await conn.copy_records_to_table(
                "registrations",
                schema_name="enrollment",
                columns=REGISTRATION_COLUMNS,
                records=registration_rows,
            )
            for statement in recreate:
                await conn.execute(statement)
        await conn.execute("ANALYZE enrollment.teachers")
        await conn.execute("ANALYZE enrollment.registrations")
    finally:
        await conn.close()
    city = max(per_city, key=lambda c: per_city[c])
    return city, per_city[city]


async def bench(teachers: int, limit: int = 100) -> dict[str, Any]:
    async with bench_database() as (url, how):
        engine = make_engine(url)
        factory = make_session_factory(engine)
        try:
            project_id = uuid.uuid4()
            today = date.today()
            async with factory() as session, session.begin():
                session.add(
                    Project(
                        id=project_id,
                        year=today.year,
                        stage="primary",
                        name="基准测试项目",
                        counties_open_from=today,
                        counties_open_until=today,
                        schools_open_from=today,
                        schools_open_until=today,
                        registration_opens_on=today,
                        registration_closes_on=today,
                        submission_opens_on=today,
                        submission_closes_on=today,
                        owner_org_id=PROVINCE,  # the province's programme
                        province_id=PROVINCE,
                        city_id=None,
                        rule_set="shandong-2023",
                    )
                )
            t0 = time.perf_counter()
            city, expected = await load(url, teachers, project_id)
            load_s = time.perf_counter() - t0
            async with engine.connect() as conn:
                province = (
                    await conn.execute(
                        text("SELECT province_id FROM enrollment.orgs WHERE id = :c"), {"c": city}
                    )
                ).scalar_one()
            actor = Principal(
                user_id="bench", role=Role.province_admin, org_path=(province,), name="基准"
            )
            times: list[float] = []
            seen = 0
            cursor: str | None = None
            warm_up = True  # the first request pays for connecting and compiling; not counted
            while True:
                t = time.perf_counter()
                async with factory() as session:
                    page = await registration.list_registrations(
                        session,
                        actor=actor,
                        project_id=project_id,
                        city_id=city,
                        county_id=None,
                        school_id=None,
                        subject=None,
                        cursor=cursor,
                        limit=limit,
                    )
                if warm_up:
                    warm_up = False
                    continue
                times.append((time.perf_counter() - t) * 1000)
                seen += len(page.items)
                cursor = page.next_cursor
                if cursor is None:
                    break
        finally:
            await engine.dispose()
    assert seen == expected, (seen, expected)
    return {
        "postgres": how,
        "teachers": teachers,
        "load_s": load_s,
        "city_rows": seen,
        "pages": len(times),
        "p50_ms": statistics.median(times),
        "p99_ms": pct(times, 99),
        "max_ms": max(times),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--teachers", type=int, default=1_000_000)
    parser.add_argument("--limit", type=int, default=100)
    args = parser.parse_args()
    r = asyncio.run(bench(args.teachers, args.limit))
    print(f"registration pages of one city ({r['postgres']})")
    print(
        f"  loaded {r['teachers']:,} teachers + {r['teachers']:,} registrations with COPY "
        f"in {r['load_s']:.1f} s"
    )
    print(
        f"  {r['pages']} pages of {args.limit} ({r['city_rows']:,} registrations): "
        f"p50 {r['p50_ms']:.1f} ms   p99 {r['p99_ms']:.1f} ms   max {r['max_ms']:.1f} ms"
    )
    print(f"  target: < 50 ms per page {'OK' if r['p99_ms'] < 50 else 'MISSED'}")


if __name__ == "__main__":
    main()
