"""Peer-review allocation benchmark (观评课分配): 3 reviews for each of 1,000,000 registered
teachers over 30,000 city-level lessons in realistic stage × subject pools, through the same
use case as `POST /allocations` (read the pools, allocate, COPY the 3,000,000 assignments,
commit), then checks balance, own lessons, own schools and duplicates.

    .venv/bin/python -m bench.lessons_allocation --teachers 1000000 --lessons 30000 --rounds 3
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import random
import statistics
import time
import uuid
from collections import defaultdict
from typing import Any

import asyncpg

from lessons.allocation.service import allocate_reviews
from stack.migrate import migrate_all
from yanxiu.devstack.paths import data_dir
from yanxiu.devstack.postgres import create_database, drop_database, ensure_server
from yanxiu.kit.auth import Principal, Role
from yanxiu.kit.db import asyncpg_url, make_engine, make_session_factory

YEAR = 2026
# (stage, subject, weight): primary Chinese and maths are the big pools, some are small.
POOLS = [
    ("primary", "语文", 22),
    ("primary", "数学", 18),
    ("primary", "英语", 7),
    ("primary", "科学", 4),
    ("primary", "道德与法治", 4),
    ("primary", "音乐", 3),
    ("primary", "美术", 3),
    ("primary", "体育与健康", 4),
    ("primary", "信息科技", 1),
    ("junior_high", "语文", 5),
    ("junior_high", "数学", 5),
    ("junior_high", "英语", 5),
    ("junior_high", "物理", 2),
    ("junior_high", "化学", 2),
    ("junior_high", "生物学", 2),
    ("junior_high", "历史", 2),
    ("junior_high", "地理", 1),
    ("junior_high", "道德与法治", 2),
    ("senior_high", "语文", 2),
    ("senior_high", "数学", 2),
    ("senior_high", "英语", 2),
    ("senior_high", "物理", 1),
    ("senior_high", "化学", 1),
    ("senior_high", "地理", 1),
]
CITIES = [f"37{n:02d}00" for n in range(1, 17)]


def plain(url: str) -> str:
    return url.replace("postgresql+asyncpg://", "postgresql://")


async def load(url: str, teachers: int, lessons: int, project: uuid.UUID, seed: int) -> None:
    rng = random.Random(seed)
    weights = [w for _, _, w in POOLS]
    reviewers = []
    by_pool: dict[int, list[tuple[uuid.UUID, str, str, str]]] = defaultdict(list)
    for _ in range(teachers):
        pool = rng.choices(range(len(POOLS)), weights)[0]
        city = rng.choice(CITIES)
        county = f"{city[:4]}{rng.randrange(1, 12):02d}"
        school = f"{county}-S{rng.randrange(30):03d}"
        tid = uuid.UUID(int=rng.getrandbits(128))
        stage, subject, _ = POOLS[pool]
        reviewers.append(
            (project, tid, YEAR, "教师", stage, subject, "370000", city, county, school, "active")
        )
        by_pool[pool].append((tid, city, county, school))
    rows: list[tuple[Any, ...]] = []
    total = sum(len(v) for v in by_pool.values())
    for pool, people in by_pool.items():
        stage, subject, _ = POOLS[pool]
        n = max(4, round(lessons * len(people) / total))
        for author, city, county, school in rng.sample(people, min(n, len(people))):
            rows.append(
                (
                    uuid.UUID(int=rng.getrandbits(128)),
                    YEAR,
                    author,
                    "教师",
                    stage,
                    "三年级",
                    subject,
                    "统编版",
                    f"课例{len(rows)}",
                    "national",
                    "https://v.example/x.mp4",
                    "370000",
                    city,
                    county,
                    school,
                    "city",
                    "competition",
                )
            )
    conn = await asyncpg.connect(plain(url))
    try:
        await conn.copy_records_to_table(
            "reviewers",
            schema_name="lessons",
            records=reviewers,
            columns=[
                "project_id",
                "teacher_id",
                "year",
                "teacher_name",
                "stage",
                "subject",
                "province_id",
                "city_id",
                "county_id",
                "school_id",
                "status",
            ],
        )
        await conn.copy_records_to_table(
            "lessons",
            schema_name="lessons",
            records=rows,
            columns=[
                "id",
                "year",
                "teacher_id",
                "teacher_name",
                "stage",
                "grade",
                "subject",
                "textbook_version",
                "title",
                "curriculum",
                "video_url",
                "province_id",
                "city_id",
                "county_id",
                "school_id",
                "level",
                "track",
            ],
        )
        await conn.execute("ANALYZE lessons.reviewers; ANALYZE lessons.lessons")
        # The load's dirty pages are flushed now, not in the middle of the timed allocation.
        with contextlib.suppress(asyncpg.InsufficientPrivilegeError):
            await conn.execute("CHECKPOINT")
    finally:
        await conn.close()


async def check(url: str, project: uuid.UUID) -> dict[str, Any]:
    conn = await asyncpg.connect(plain(url))
    try:
        spread = await conn.fetchval(
            """SELECT max(hi - lo) FROM (
                 SELECT l.stage, l.subject, max(n) AS hi, min(n) AS lo FROM (
                   SELECT l.id, count(a.id) AS n FROM lessons.lessons l
                   LEFT JOIN lessons.assignments a ON a.lesson_id = l.id AND a.project_id = $1
                   GROUP BY l.id) c JOIN lessons.lessons l USING (id)
                 GROUP BY l.stage, l.subject) p""",
            project,
        )
        own = await conn.fetchval(
            """SELECT count(*) FROM lessons.assignments a
               JOIN lessons.lessons l ON l.id = a.lesson_id
               JOIN lessons.reviewers r
                 ON r.project_id = a.project_id AND r.teacher_id = a.reviewer_id
               WHERE a.project_id = $1
                 AND (l.teacher_id = r.teacher_id OR l.school_id = r.school_id)""",
            project,
        )
        total = await conn.fetchval(
            "SELECT count(*) FROM lessons.assignments WHERE project_id = $1", project
        )
        distinct = await conn.fetchval(
            "SELECT count(*) FROM "
            "(SELECT DISTINCT reviewer_id, lesson_id FROM lessons.assignments) d"
        )
        served = await conn.fetch(
            "SELECT n, count(*) AS k FROM (SELECT reviewer_id, count(*) AS n "
            "FROM lessons.assignments GROUP BY 1) x GROUP BY n ORDER BY n"
        )
        lessons = await conn.fetchval("SELECT count(*) FROM lessons.lessons")
    finally:
        await conn.close()
    return {
        "spread": spread,
        "own_or_own_school": own,
        "assignments": total,
        "duplicates": total - distinct,
        "per_reviewer": {r["n"]: r["k"] for r in served},
        "lessons": lessons,
    }


async def bench(teachers: int, lessons: int, seed: int = 2026) -> dict[str, Any]:
    server, _how = await ensure_server(data_dir())
    name = f"yanxiu_bench_alloc_{uuid.uuid4().hex[:6]}"
    url = asyncpg_url(await create_database(server, name))
    project = uuid.uuid4()
    try:
        await migrate_all(url)
        t0 = time.perf_counter()
        await load(url, teachers, lessons, project, seed)
        load_s = time.perf_counter() - t0
        engine = make_engine(url, pool_size=2)
        province = Principal(user_id="bench", role=Role.province_admin, org_path=("370000",))
        t0 = time.perf_counter()
        async with make_session_factory(engine)() as session, session.begin():
            run = await allocate_reviews(session, actor=province, project_id=project, seed=seed)
        allocate_s = time.perf_counter() - t0
        await engine.dispose()
        result = await check(url, project)
        pools = run.summary["pools"]
        return {
            "teachers": teachers,
            "load_s": load_s,
            "allocate_s": allocate_s,
            "pools": len(pools),
            "max_spread_summary": run.summary["max_spread"],
            "short": sum(p["short_reviewers"] for p in pools),
            **result,
        }
    finally:
        await drop_database(server, name)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--teachers", type=int, default=1_000_000)
    parser.add_argument("--lessons", type=int, default=30_000)
    parser.add_argument(
        "--rounds", type=int, default=1, help="each on a fresh database; the median is quoted"
    )
    args = parser.parse_args()
    rounds = [asyncio.run(bench(args.teachers, args.lessons)) for _ in range(args.rounds)]
    r = rounds[-1]
    times = [x["allocate_s"] for x in rounds]
    print(
        f"观评课 allocation: {r['teachers']:,} teachers, {r['lessons']:,} city-level lessons, "
        f"{r['pools']} stage × subject pools\n"
        f"  load reviewers and lessons (COPY)   {r['load_s']:6.1f} s\n"
        f"  allocate + write {r['assignments']:,} assignments  {statistics.median(times):6.1f} s"
        f" median of {len(times)} ({', '.join(f'{t:.1f}' for t in times)})  (target ≤ 20)\n"
        f"  balance: max − min reviews per lesson in a pool = "
        f"{max(x['spread'] for x in rounds)}  (target ≤ 1)\n"
        f"  own lesson or own school: {sum(x['own_or_own_school'] for x in rounds)}   "
        f"duplicates: {sum(x['duplicates'] for x in rounds)}   "
        f"short: {sum(x['short'] for x in rounds)}\n"
        f"  reviewers by number of assignments: {dict(sorted(r['per_reviewer'].items()))}"
    )


if __name__ == "__main__":
    main()
