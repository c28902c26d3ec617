"""Dashboards (看板) of services/insights at 1,000,000 teachers, beside the read floor (issue #18,
point 2): target p95 < 50 ms for every dashboard route at 1M teachers.

In one run: a fresh database migrated for insights only, seeded in SQL (generate_series) with
one project, an org tree of one province (370000), 16 cities, 10 counties each and ~100 schools
per county (≈ 62 teachers a school at 1M), `teachers` standings, ~2 % as many offline records,
and the tallies and daily counts those facts contribute (insights.feed.tally: the four levels
with their parents, per stage × subject × rural/urban; a day per funnel step), plus a year
scope (credits, certificates, offline records) and every org's name (so no request asks
enrollment for one: what production does after the first day). Then the insights service as a
uvicorn process (uvloop + httptools, no access log, LOG_LEVEL=WARNING, consumers on an embedded
Tansu broker) and the floor (/work/shared/floor/floor_app.py: bare FastAPI + asyncpg, one
SELECT by primary key) as another.

Each route is read by the admin whose dashboard it is (province, city or county admin tokens,
rotating over up to 16 orgs of its level), measured with wrk (bench.loadgen, bench/wrk/lines.lua):
alone (median of N sequential requests on one connection), then under load with `connections`
connections for `seconds`, then the floor's GET /heartbeat/1 with the same connections and
seconds right after it. Printed: req/s, p50, p95, p99, alone, statements per request, the
floor's figures, the ratio of req/s to the floor's, and a verdict per route (p95 < 50 ms).

    .venv/bin/python -m bench.insights_dashboard --teachers 1000000 --seconds 10 [--json]
        [--connections 32] [--alone 200] [--only orgs] [--explain]

`--explain` prints EXPLAIN (ANALYZE, BUFFERS) of the statements each measured route's repository
functions send (captured from insights.dashboard.repository, so always the service's own SQL).
Needs wrk (Debian's package: apt-get install wrk); without it, says so and exits 2.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import shutil
import sys
import tempfile
import time
import uuid
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import asyncpg
import httpx
import uvloop
from prometheus_client.parser import text_string_to_metric_families
from sqlalchemy import TextClause, text

from bench.learning_heartbeats import servers, wait_ready
from bench.loadgen import Request, Result, bearer, require_wrk, write_requests, wrk
from insights.dashboard import repository as repo
from insights.feed import tally
from yanxiu.devstack.broker import TansuBroker, free_ports
from yanxiu.devstack.paths import data_dir
from yanxiu.devstack.postgres import create_database, drop_database, ensure_server
from yanxiu.kit.auth import Principal, Role, generate_keypair, issue_token
from yanxiu.kit.db import asyncpg_url, make_engine, plain_url
from yanxiu.kit.migrations import upgrade

# As bench.platform's (not imported from there: it brings in every service's seeding, and
# this benchmark runs insights alone): the brief's floor app next to the repository, its
# database, and how every process is served.
REPO = Path(__file__).resolve().parents[1]
DEFAULT_FLOOR_DIR = REPO.parent / "shared" / "floor"
FLOOR_DATABASE = "floor"
HOST = "127.0.0.1"
UVICORN = ["--loop", "uvloop", "--http", "httptools"]
READY_TIMEOUT = 120.0

PROVINCE = "370000"
CITIES = 16
COUNTIES_PER_CITY = 10
TEACHERS_PER_SCHOOL = 62.5  # 1,000,000 teachers in 16 × 10 × 100 schools
MAX_SCHOOLS_PER_COUNTY = 100
STAGES = ("primary", "junior_high", "senior_high")
SUBJECTS = ("语文", "数学", "英语", "物理", "化学", "道德与法治", "体育")
OFFLINE_SHARE = 0.02  # offline records per teacher (≈ 20,000 at 1M)
HISTORY_DAYS = 60  # registrations over the last 60 days
TARGET_P95_MS = 50.0
SPREAD = 16  # orgs of one level a route rotates over (one per city)


def stderr(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def floor_app_dir(given: Path) -> Path:
    found = given.resolve()
    if not (found / "floor_app.py").is_file():
        raise FileNotFoundError(f"no floor_app.py in {found} (see --floor-dir)")
    return found


async def statements_sent(base: str, method: str) -> tuple[float, float]:
    """(statements, requests) of a service so far, for one HTTP method, from its metrics
    (as bench.api_paths counts them)."""
    async with httpx.AsyncClient(base_url=base, timeout=10) as client:
        body = (await client.get("/metrics")).text
    sums = {"yanxiu_http_db_statements_sum": 0.0, "yanxiu_http_db_statements_count": 0.0}
    for family in text_string_to_metric_families(body):
        for sample in family.samples:
            if sample.name in sums and sample.labels.get("method") == method:
                sums[sample.name] += sample.value
    return sums["yanxiu_http_db_statements_sum"], sums["yanxiu_http_db_statements_count"]


# --- the tree -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Tree:
    cities: int
    counties_per_city: int
    schools_per_county: int

    @classmethod
    def for_teachers(cls, teachers: int) -> Tree:
        per_county = round(teachers / (CITIES * COUNTIES_PER_CITY * TEACHERS_PER_SCHOOL))
        return cls(CITIES, COUNTIES_PER_CITY, max(1, min(MAX_SCHOOLS_PER_COUNTY, per_county)))

    @property
    def schools(self) -> int:
        return self.cities * self.counties_per_city * self.schools_per_county

    @staticmethod
    def city(c: int) -> str:
        return f"37{c:02d}00"

    @staticmethod
    def county(c: int, k: int) -> str:
        return f"37{c:02d}{k:02d}"

    def spread_counties(self, n: int = SPREAD) -> list[tuple[str, str]]:
        """(city, county) pairs, one county in each city (a different one in each)."""
        return [
            (self.city(c), self.county(c, (c - 1) % self.counties_per_city + 1))
            for c in range(1, min(n, self.cities) + 1)
        ]


# --- seeding ------------------------------------------------------------------------------------

SCHOOLS_SQL = """
CREATE TEMP TABLE bench_schools AS
SELECT n, city_id, county_id, county_id || lpad(s::text, 3, '0') AS school_id,
       (n % 5) < 2 AS is_rural
FROM (
  SELECT n, '37' || lpad(c::text, 2, '0') || '00' AS city_id,
         '37' || lpad(c::text, 2, '0') || lpad(k::text, 2, '0') AS county_id, s
  FROM (SELECT n, n / ($1::int * $2::int) + 1 AS c, (n / $2::int) % $1::int + 1 AS k,
               n % $2::int + 1 AS s
        FROM generate_series(0, $3::int - 1) AS n) AS t
) AS named
"""

ORG_NAMES_SQL = """
INSERT INTO insights.org_names (org_id, parent_id, level, name, fetched_at)
SELECT $1, NULL, 'province', '山东省', now()
UNION ALL
SELECT DISTINCT city_id, $1, 'city', '第' || substr(city_id, 3, 2) || '市', now()
FROM bench_schools
UNION ALL
SELECT DISTINCT county_id, city_id, 'county',
       '第' || substr(county_id, 3, 2) || '市第' || substr(county_id, 5, 2) || '县', now()
FROM bench_schools
UNION ALL
SELECT school_id, county_id, 'school', '第' || right(school_id, 3) || '学校（' || county_id || '）',
       now()
FROM bench_schools
"""

PROJECT_SQL = """
INSERT INTO insights.projects (project_id, name, year, stage, owner_org_id, opened_at)
VALUES ($1, $2::int::text || '年全省中小学教师全员培训（基准）', $2::int, 'all', $3,
        now() - interval '70 days')
"""

# Registered over the last 60 days; plan active 95 %; started ~80 %; requirements met ~50 %
# (of all: 62.5 % of the started); hours by category as decimal strings, as the events set them.
STANDINGS_SQL = f"""
INSERT INTO insights.standings (
  project_id, teacher_id, year, teacher_name, province_id, city_id, county_id, school_id,
  stage, subject, is_rural, employment, registered_at, plan_status, plan_at, started_at,
  met_at, hours, reviews_done, updated_at)
SELECT $1::uuid, gen_random_uuid(), $2::int, '基准教师' || f.i, '{PROVINCE}', sc.city_id,
       sc.county_id, sc.school_id,
       (ARRAY{list(STAGES)!r})[1 + floor(f.st * {len(STAGES)})::int],
       (ARRAY{list(SUBJECTS)!r})[1 + floor(f.su * {len(SUBJECTS)})::int],
       sc.is_rural, 'active', f.reg,
       CASE WHEN f.a < 0.95 THEN 'active' ELSE 'withdrawn' END,
       f.reg + (now() - f.reg) * 0.1 * f.b,
       f.started, f.met,
       CASE WHEN f.started IS NULL THEN '{{}}'::jsonb ELSE jsonb_strip_nulls(jsonb_build_object(
         'subject_required', (floor((CASE WHEN f.met IS NULL THEN 30 * f.h ELSE 30 + 20 * f.h END)
                              * 2) / 2)::numeric(6, 1)::text,
         'general_elective', CASE WHEN f.g < 0.5 THEN (floor(24 * f.g) / 2)::numeric(6, 1)::text
                             END)) END,
       CASE WHEN f.met IS NULL THEN 0 ELSE f.i % 3 END,
       now()
FROM (
  SELECT s.*, CASE WHEN s.started IS NOT NULL AND s.d < 0.625
                   THEN s.started + (now() - s.started) * s.e END AS met
  FROM (
    SELECT r.*, CASE WHEN r.c < 0.8 THEN r.reg + (now() - r.reg) * 0.5 * r.b2 END AS started
    FROM (
      SELECT i, random() AS st, random() AS su, random() AS a, random() AS b, random() AS b2,
             random() AS c, random() AS d, random() AS e, random() AS g, random() AS h,
             now() - interval '{HISTORY_DAYS} days' * random() AS reg
      FROM generate_series(0, $3::int - 1) AS i
    ) AS r
  ) AS s
) AS f
JOIN bench_schools AS sc ON sc.n = f.i % $4::int
"""

OFFLINE_SQL = """
INSERT INTO insights.offline_records (
  record_id, teacher_id, year, province_id, city_id, county_id, school_id, status, category,
  hours, changed_at)
SELECT gen_random_uuid(), teacher_id, year, province_id, city_id, county_id, school_id,
       CASE WHEN u < 0.30 THEN 'submitted' WHEN u < 0.50 THEN 'county_passed'
            WHEN u < 0.90 THEN 'approved' WHEN u < 0.95 THEN 'county_rejected'
            ELSE 'city_rejected' END,
       'offline_training', (3 + floor(u * 1000)::int % 22)::numeric(8, 2),
       now() - interval '30 days' * random()
FROM (
  -- u drawn apart from the sample's order (ORDER BY random() beside a `random() AS u` would
  -- sort by u itself, and every picked record would be 'submitted').
  SELECT sampled.*, random() AS u
  FROM (SELECT * FROM insights.standings WHERE project_id = $1
        ORDER BY random() LIMIT $2) AS sampled
) AS picked
"""

# The four places of a fact with their levels and parents (insights.feed.tally.places).
_LEVELS = """LATERAL (VALUES (c.province_id, 1, ''), (c.city_id, 2, c.province_id),
                      (c.county_id, 3, c.city_id), (c.school_id, 4, c.county_id))
         AS o(org_id, level, parent_id)"""

# What a standing contributes (insights.feed.tally.standing): summed per school and cell
# first, then added up at the four levels.
PROJECT_TALLIES_SQL = f"""
INSERT INTO insights.tallies (scope, org_id, metric, stage, subject, area, level, parent_id, value)
SELECT $2, o.org_id, c.metric, c.stage, c.subject, c.area, o.level, o.parent_id, sum(c.v)
FROM (
  SELECT province_id, city_id, county_id, school_id, stage, subject,
         CASE WHEN is_rural IS NULL THEN '' WHEN is_rural THEN 'r' ELSE 'u' END AS area,
         m.metric, sum(m.v) AS v
  FROM insights.standings,
       LATERAL (
         VALUES ('{tally.REGISTERED}', 1::numeric),
                ('{tally.PLAN_ACTIVE}', (plan_status = 'active')::int::numeric),
                ('{tally.STARTED}', (started_at IS NOT NULL)::int::numeric),
                ('{tally.REQUIREMENTS_MET}', (met_at IS NOT NULL)::int::numeric),
                ('{tally.REVIEWS_DONE}', reviews_done::numeric)
         UNION ALL
         SELECT '{tally.HOURS}' || key, value::numeric FROM jsonb_each_text(hours)
       ) AS m(metric, v)
  WHERE project_id = $1 AND registered_at IS NOT NULL AND m.v <> 0
  GROUP BY 1, 2, 3, 4, 5, 6, 7, 8
) AS c, {_LEVELS}
GROUP BY o.org_id, c.metric, c.stage, c.subject, c.area, o.level, o.parent_id
"""

# Peer reviews assigned, per school (lessons' reviews_allocated: insights.feed.tally.review_load,
# no stage, subject or area): two for each registered teacher.
REVIEW_LOADS_SQL = """
INSERT INTO insights.review_loads (project_id, school_id, province_id, city_id, county_id,
                                   assigned, allocated_at)
SELECT $1, school_id, min(province_id), min(city_id), min(county_id), 2 * count(*),
       now() - interval '10 days'
FROM insights.standings WHERE project_id = $1 AND registered_at IS NOT NULL
GROUP BY school_id
"""

REVIEW_TALLIES_SQL = f"""
INSERT INTO insights.tallies (scope, org_id, metric, stage, subject, area, level, parent_id, value)
SELECT $2, o.org_id, '{tally.REVIEWS_ASSIGNED}', '', '', '', o.level, o.parent_id, sum(c.assigned)
FROM insights.review_loads AS c, {_LEVELS}
WHERE c.project_id = $1 AND c.assigned <> 0
GROUP BY o.org_id, o.level, o.parent_id
"""

_DAY = "(m.at AT TIME ZONE 'Asia/Shanghai')::date"
PROJECT_DAILY_SQL = f"""
INSERT INTO insights.daily (scope, org_id, metric, day, value)
SELECT $2, o.org_id, c.metric, c.day, sum(c.v)
FROM (
  SELECT province_id, city_id, county_id, school_id, m.metric, {_DAY} AS day, count(*) AS v
  FROM insights.standings,
       LATERAL (
         VALUES ('{tally.REGISTERED}', registered_at),
                ('{tally.PLAN_ACTIVE}', CASE WHEN plan_status = 'active'
                                             THEN coalesce(plan_at, registered_at) END),
                ('{tally.STARTED}', started_at),
                ('{tally.REQUIREMENTS_MET}', met_at)
       ) AS m(metric, at)
  WHERE project_id = $1 AND registered_at IS NOT NULL AND m.at IS NOT NULL
  GROUP BY 1, 2, 3, 4, 5, 6
) AS c, {_LEVELS}
GROUP BY o.org_id, c.metric, c.day
"""

# The year's scope, for realism (no stage, subject or area: insights.feed.tally.teacher_year and
# offline_record): credits registered for the started teachers with their hours, the year
# complete for those who met the requirements, certificates for those met over three days ago,
# and the offline records by status.
YEAR_TALLIES_SQL = f"""
INSERT INTO insights.tallies (scope, org_id, metric, stage, subject, area, level, parent_id, value)
SELECT $2, o.org_id, c.metric, '', '', '', o.level, o.parent_id, sum(c.v)
FROM (
  SELECT province_id, city_id, county_id, school_id, m.metric, sum(m.v) AS v
  FROM insights.standings,
       LATERAL (
         VALUES ('{tally.CREDITS_REGISTERED}', (started_at IS NOT NULL)::int::numeric),
                ('{tally.CREDIT_HOURS}', (SELECT coalesce(sum(value::numeric), 0)
                                          FROM jsonb_each_text(hours))),
                ('{tally.YEAR_COMPLETE}', (met_at IS NOT NULL)::int::numeric),
                ('{tally.CERTIFICATES_ISSUED}',
                 (met_at < now() - interval '3 days')::int::numeric)
       ) AS m(metric, v)
  WHERE project_id = $1 AND registered_at IS NOT NULL AND m.v <> 0
  GROUP BY 1, 2, 3, 4, 5
  UNION ALL
  SELECT province_id, city_id, county_id, school_id, '{tally.OFFLINE}' || status, count(*)
  FROM insights.offline_records WHERE year = $3
  GROUP BY 1, 2, 3, 4, 5
) AS c, {_LEVELS}
GROUP BY o.org_id, c.metric, o.level, o.parent_id
"""

# The roll-up the dashboards read without a filter (insights.feed.facts.apply keeps it in step).
TOTALS_SQL = """
INSERT INTO insights.tally_totals (scope, org_id, metric, level, parent_id, value)
SELECT scope, org_id, metric, min(level), min(parent_id), sum(value)
FROM insights.tallies GROUP BY scope, org_id, metric
"""

# The drill-down lines, from the roll-up (the feed keeps them in step with it).
DRILLDOWN_SQL = (
    "INSERT INTO insights.drilldown_rows (scope, org_id, level, parent_id, "
    + ", ".join(tally.DRILLDOWN_COLUMNS)
    + ") SELECT scope, org_id, min(level), min(parent_id), "
    + ", ".join(
        f"coalesce(sum(value) FILTER (WHERE metric = ANY('{{{','.join(ms)}}}')), 0)"
        for ms in tally.DRILLDOWN_COLUMNS.values()
    )
    + " FROM insights.tally_totals WHERE metric = ANY('{"
    + ",".join(m for ms in tally.DRILLDOWN_COLUMNS.values() for m in ms)
    + "}') GROUP BY scope, org_id"
)

TABLES = (
    "standings",
    "tallies",
    "tally_totals",
    "drilldown_rows",
    "daily",
    "offline_records",
    "review_loads",
    "org_names",
    "projects",
)


@dataclass
class Seeded:
    project_id: uuid.UUID
    year: int
    tree: Tree
    seconds: dict[str, float]
    sizes: dict[str, dict[str, int]]  # table: rows, bytes (with indexes)
    truth: dict[str, dict[str, int]]  # org: funnel counted from the standings (not the tallies)


async def seed(url: str, teachers: int, *, say: Callable[[str], None] = stderr) -> Seeded:
    tree = Tree.for_teachers(teachers)
    project_id, year = uuid.uuid4(), datetime.now(UTC).year
    scope, year_scope = tally.project_scope(project_id), tally.year_scope(year)
    offline = max(10, round(teachers * OFFLINE_SHARE))
    seconds: dict[str, float] = {}
    conn = await asyncpg.connect(plain_url(url))
    try:
        await conn.execute("SET work_mem = '256MB'; SET maintenance_work_mem = '256MB'")

        async def step(name: str, sql: str, *args: Any) -> None:
            started = time.perf_counter()
            await conn.execute(sql, *args)
            seconds[name] = round(time.perf_counter() - started, 2)
            say(f"  {name}: {seconds[name]:.1f} s")

        say(
            f"seeding {teachers:,} teachers in {tree.schools:,} schools "
            f"({tree.cities} cities × {tree.counties_per_city} counties × "
            f"{tree.schools_per_county} schools) …"
        )
        async with conn.transaction():
            await step(
                "orgs",
                SCHOOLS_SQL,
                tree.counties_per_city,
                tree.schools_per_county,
                tree.schools,
            )
            await step("org_names", ORG_NAMES_SQL, PROVINCE)
            await step("projects", PROJECT_SQL, project_id, year, PROVINCE)
            await step("standings", STANDINGS_SQL, project_id, year, teachers, tree.schools)
            await step("offline_records", OFFLINE_SQL, project_id, offline)
            await step("tallies (project)", PROJECT_TALLIES_SQL, project_id, scope)
            await step("daily (project)", PROJECT_DAILY_SQL, project_id, scope)
            await step("review_loads", REVIEW_LOADS_SQL, project_id)
            await step("tallies (reviews)", REVIEW_TALLIES_SQL, project_id, scope)
            await step("tallies (year)", YEAR_TALLIES_SQL, project_id, year_scope, year)
            await step("tally_totals", TOTALS_SQL)
            await step("drilldown_rows", DRILLDOWN_SQL)
        started = time.perf_counter()
        for table in TABLES:
            await conn.execute(f"VACUUM ANALYZE insights.{table}")
        seconds["vacuum analyze"] = round(time.perf_counter() - started, 2)
        say(f"  vacuum analyze: {seconds['vacuum analyze']:.1f} s")
        sizes = {}
        for table in TABLES:
            found = await conn.fetchrow(
                "SELECT greatest(reltuples, 0)::bigint, pg_total_relation_size(oid) "
                "FROM pg_class WHERE oid = $1::regclass",
                f"insights.{table}",
            )
            assert found is not None
            sizes[table] = {"rows": int(found[0]), "bytes": int(found[1])}
        truth = {}
        city, county = tree.spread_counties(1)[0]
        for column, org in (("province_id", PROVINCE), ("city_id", city), ("county_id", county)):
            row = await conn.fetchrow(
                "SELECT count(*) AS registered, "
                "count(*) FILTER (WHERE plan_status = 'active') AS plan_active, "
                "count(started_at) AS started, count(met_at) AS requirements_met "
                f"FROM insights.standings WHERE project_id = $1 AND {column} = $2 "
                "AND registered_at IS NOT NULL",
                project_id,
                org,
            )
            assert row is not None
            truth[org] = dict(row)
    finally:
        await conn.close()
    return Seeded(project_id, year, tree, seconds, sizes, truth)


# --- the processes ------------------------------------------------------------------------------


@dataclass
class Stack:
    teachers: int
    database_url: str
    ports: dict[str, int]
    seeded: Seeded
    tokens: dict[tuple[str, str], str]  # (role, org) → token
    floor_app: Path
    work: Path
    setup_seconds: float
    settings: list[str] = field(default_factory=list)

    def base(self, name: str) -> str:
        return f"http://{HOST}:{self.ports[name]}"


def _token(role: Role, path: tuple[str, ...], private: str) -> str:
    return issue_token(
        Principal(user_id=f"bench-{role.value}-{path[-1]}", role=role, org_path=path, name="基准"),
        private_key_pem=private,
        ttl_seconds=24 * 3600,
    )


def _commands(ports: dict[str, int], floor_dir: Path) -> list[tuple[str, list[str]]]:
    common = ["--host", HOST, *UVICORN]
    return [
        (
            "insights",
            [
                "insights.main:create_app",
                "--factory",
                "--port",
                str(ports["insights"]),
                *common,
                "--no-access-log",
                "--log-level",
                "warning",
            ],
        ),
        (
            "floor",
            [
                "--app-dir",
                str(floor_dir),
                "floor_app:app",
                "--port",
                str(ports["floor"]),
                *common,
                "--log-level",
                "warning",
            ],
        ),
    ]


@contextlib.asynccontextmanager
async def stack(
    teachers: int,
    *,
    floor_dir: Path = DEFAULT_FLOOR_DIR,
    say: Callable[[str], None] = stderr,
) -> AsyncIterator[Stack]:
    """A fresh insights database seeded at `teachers`, the insights service and the floor;
    everything stopped and the benchmark's database dropped afterwards (the floor's is kept)."""
    floor_dir = floor_app_dir(floor_dir)
    started = time.perf_counter()
    server, how = await ensure_server(data_dir())
    name = f"yanxiu_bench_insights_{uuid.uuid4().hex[:6]}"
    url = asyncpg_url(await create_database(server, name))
    floor_dsn = plain_url(await create_database(server, FLOOR_DATABASE))  # kept if it exists
    broker = TansuBroker()
    work = Path(tempfile.mkdtemp(prefix="yanxiu-bench-insights-"))
    try:
        say(f"insights dashboards: database {name} ({how}); migrations …")
        await upgrade(REPO / "services" / "insights", url)
        seeded = await seed(url, teachers, say=say)
        private, public = generate_keypair()
        tree = seeded.tree
        tokens = {("province_admin", PROVINCE): _token(Role.province_admin, (PROVINCE,), private)}
        for city, county in tree.spread_counties():
            tokens[("city_admin", city)] = _token(Role.city_admin, (PROVINCE, city), private)
            tokens[("county_admin", county)] = _token(
                Role.county_admin, (PROVINCE, city, county), private
            )
        ports = dict(zip(("insights", "floor"), free_ports(2), strict=True))
        env = {
            **os.environ,
            "DATABASE_URL": url,
            "KAFKA_BOOTSTRAP_SERVERS": broker.start(),
            "JWT_PUBLIC_KEY": public,
            "JWT_PUBLIC_KEY_FILE": "",
            "JWT_JWKS_URL": "",
            # Every org is named in insights.org_names: enrollment is never asked (and is not
            # running); a request that did ask would fail fast here and show the id.
            "INSIGHTS_ENROLLMENT_URL": f"http://{HOST}:9",
            "INSIGHTS_ENROLLMENT_TIMEOUT_S": "1",
            "LOG_LEVEL": "WARNING",
            "FLOOR_DSN": floor_dsn,
        }
        say("  starting insights and the floor …")
        with servers(_commands(ports, floor_dir), env):
            await wait_ready(f"http://{HOST}:{ports['insights']}/readyz", timeout=READY_TIMEOUT)
            await wait_ready(f"http://{HOST}:{ports['floor']}/heartbeat/1", timeout=READY_TIMEOUT)
            yield Stack(
                teachers=teachers,
                database_url=url,
                ports=ports,
                seeded=seeded,
                tokens=tokens,
                floor_app=floor_dir / "floor_app.py",
                work=work,
                setup_seconds=time.perf_counter() - started,
                settings=[
                    "insights ×1 process: uvicorn --loop uvloop --http httptools --no-access-log, "
                    "LOG_LEVEL=WARNING, database pool default (10 + read pool 6), consumers on "
                    "an embedded Tansu broker (idle)",
                    "floor ×1 process: the same uvicorn options, --log-level warning, its pool 8",
                    "org names pre-filled in insights.org_names (enrollment never asked)",
                ],
            )
    finally:
        broker.stop()
        await drop_database(server, name)
        shutil.rmtree(work, ignore_errors=True)


# --- the routes ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Route:
    name: str
    label: str  # the path template and its query
    actor: str
    requests: list[Request]
    calls: list[tuple[str, Callable[[Any], Any]]] = field(default_factory=list)  # for --explain


def routes(s: Stack) -> list[Route]:
    seeded, tree = s.seeded, s.seeded.tree
    pid = seeded.project_id
    scope, year_scope = tally.project_scope(pid), tally.year_scope(seeded.year)
    pairs = tree.spread_counties()
    cities = [c for c, _ in pairs]
    counties = [k for _, k in pairs]
    province = bearer(s.tokens[("province_admin", PROVINCE)])

    def as_city(path: str) -> list[Request]:
        return [
            Request("GET", path.format(org=c), bearer(s.tokens[("city_admin", c)])) for c in cities
        ]

    def as_county(path: str) -> list[Request]:
        return [
            Request("GET", path.format(org=k), bearer(s.tokens[("county_admin", k)]))
            for k in counties
        ]

    base = f"/projects/{pid}"
    overview, orgs = base + "/overview?org_id={org}", base + "/orgs?org_id={org}"
    trend = base + "/trend?org_id={org}&days=30"
    teachers = base + "/teachers?org_id={org}&metric=not_met&limit=50"
    none: dict[str, str | None] = {"stage": None, "subject": None, "area": None}
    county, city = counties[0], cities[0]

    def path_of(org: str) -> Callable[[Any], Any]:
        return lambda session: repo.org_path(session, scope, org)

    def totals(org: str) -> list[tuple[str, Callable[[Any], Any]]]:
        return [
            ("org_path", path_of(org)),
            (
                "totals",
                lambda db: repo.totals(
                    db, project_scope=scope, year_scope=year_scope, org_id=org, filters=none
                ),
            ),
        ]

    def children(org: str) -> list[tuple[str, Callable[[Any], Any]]]:
        return [
            ("org_path", path_of(org)),
            (
                "children",
                lambda db: repo.children(
                    db, project_scope=scope, year_scope=year_scope, parent_id=org, filters=none
                ),
            ),
        ]

    return [
        Route(
            "projects",
            "GET /projects",
            "province admin",
            [Request("GET", "/projects", province)],
            [("projects", repo.projects)],
        ),
        Route(
            "overview province",
            "GET /projects/{id}/overview?org_id=<province>",
            "province admin",
            [Request("GET", overview.format(org=PROVINCE), province)],
            totals(PROVINCE),
        ),
        Route(
            "overview city",
            "GET /projects/{id}/overview?org_id=<city>",
            "city admin",
            as_city(overview),
            totals(city),
        ),
        Route(
            "overview county",
            "GET /projects/{id}/overview?org_id=<county>",
            "county admin",
            as_county(overview),
            totals(county),
        ),
        Route(
            "orgs province",
            f"GET /projects/{{id}}/orgs?org_id=<province> ({tree.cities} cities)",
            "province admin",
            [Request("GET", orgs.format(org=PROVINCE), province)],
            children(PROVINCE),
        ),
        Route(
            "orgs city",
            f"GET /projects/{{id}}/orgs?org_id=<city> ({tree.counties_per_city} counties)",
            "city admin",
            as_city(orgs),
            children(city),
        ),
        Route(
            "orgs county",
            f"GET /projects/{{id}}/orgs?org_id=<county> ({tree.schools_per_county} schools)",
            "county admin",
            as_county(orgs),
            children(county),
        ),
        Route(
            "trend county",
            "GET /projects/{id}/trend?org_id=<county>&days=30",
            "county admin",
            as_county(trend),
            [
                ("org_path", path_of(county)),
                (
                    "days",
                    lambda session: repo.days(session, scope, county, tally.PROJECT_FUNNEL),
                ),
            ],
        ),
        Route(
            "teachers county",
            "GET /projects/{id}/teachers?org_id=<county>&metric=not_met&limit=50",
            "county admin",
            as_county(teachers),
            [
                ("org_path", path_of(county)),
                (
                    "teachers",
                    lambda session: repo.teachers(
                        session,
                        project_id=pid,
                        level=3,
                        org_id=county,
                        metric="not_met",
                        after=None,
                        limit=51,
                    ),
                ),
            ],
        ),
        Route(
            "waiting county",
            "GET /waiting (county admin: 待初审)",
            "county admin",
            as_county("/waiting?limit=50"),
            [
                (
                    "waiting",
                    lambda session: repo.waiting(
                        session,
                        statuses=("submitted",),
                        level=3,
                        org_id=county,
                        after=None,
                        limit=51,
                    ),
                ),
            ],
        ),
    ]


# --- checks: the dashboards show what the facts say ---------------------------------------------


async def checks(s: Stack) -> list[str]:
    """Problems found (none expected): every route answers 200, the funnel at the province, a
    city and a county equals the standings counted directly, the drill-downs have the tree's
    children, the trend ends at the county's registrations, the teachers' page is full."""
    seeded, tree = s.seeded, s.seeded.tree
    base = f"/projects/{seeded.project_id}"
    city, county = tree.spread_counties(1)[0]
    admins = {
        PROVINCE: s.tokens[("province_admin", PROVINCE)],
        city: s.tokens[("city_admin", city)],
        county: s.tokens[("county_admin", county)],
    }
    problems = []
    async with httpx.AsyncClient(base_url=s.base("insights"), timeout=30) as client:

        async def get(path: str, org: str) -> Any:
            r = await client.get(path, headers=bearer(admins[org]))
            if r.status_code != 200:
                problems.append(f"GET {path}: {r.status_code} {r.text[:200]}")
                return None
            return r.json()

        for org, children in (
            (PROVINCE, tree.cities),
            (city, tree.counties_per_city),
            (county, tree.schools_per_county),
        ):
            body = await get(f"{base}/overview?org_id={org}", org)
            if body is not None:
                shown = {k: body["funnel"][k] for k in seeded.truth[org]}
                if shown != seeded.truth[org]:
                    problems.append(f"overview {org}: {shown} ≠ standings {seeded.truth[org]}")
                if body["org"]["name"] == org:
                    problems.append(f"overview {org}: no name (enrollment asked?)")
            body = await get(f"{base}/orgs?org_id={org}", org)
            if body is not None:
                if len(body["items"]) != children:
                    problems.append(f"orgs {org}: {len(body['items'])} rows, not {children}")
                total = sum(row["registered"] for row in body["items"])
                if total != seeded.truth[org]["registered"]:
                    problems.append(f"orgs {org}: children add up to {total}")
        body = await get(f"{base}/trend?org_id={county}&days=30", county)
        if (
            body is not None
            and body["items"][-1]["registered"] != seeded.truth[county]["registered"]
        ):
            problems.append(f"trend {county}: ends at {body['items'][-1]}")
        body = await get(f"{base}/teachers?org_id={county}&metric=not_met&limit=50", county)
        not_met = seeded.truth[county]["registered"] - seeded.truth[county]["requirements_met"]
        if body is not None and len(body["items"]) != min(50, not_met):
            problems.append(f"teachers {county}: {len(body['items'])} rows")
        await get("/waiting?limit=50", county)
    return problems


# --- measuring ----------------------------------------------------------------------------------


def _p95(r: Result) -> float:
    return r.latency_us.get("p95", r.latency_us["p90"]) / 1000


def _summary(r: Result) -> dict[str, Any]:
    return {**r.summary(), "p95_ms": round(_p95(r), 3)}


async def _run(
    url: str, file: Path, *, connections: int, seconds: float, alone: int | None = None
) -> Result:
    return await wrk(
        url,
        "lines.lua",
        {"file": str(file)},
        connections=connections,
        seconds=seconds,
        stop_after=alone,
    )


def loadavg() -> str:
    try:
        return Path("/proc/loadavg").read_text().strip()
    except OSError:
        return "n/a"


async def measure(
    s: Stack, route: Route, *, floor: Path, seconds: float, connections: int, alone: int
) -> dict[str, Any]:
    """The route alone and the floor alone, then the route under load and the floor right
    after it, with the same connections and seconds."""
    url, floor_url = s.base("insights"), s.base("floor")
    file = write_requests(s.work / f"{route.name.replace(' ', '-')}.tsv", route.requests)
    sent, asked = await statements_sent(url, "GET")
    route_alone = await _run(url, file, connections=1, seconds=0, alone=alone)
    sent_after, asked_after = await statements_sent(url, "GET")
    floor_alone = await _run(floor_url, floor, connections=1, seconds=0, alone=alone)
    route_load = await _run(url, file, connections=connections, seconds=seconds)
    floor_load = await _run(floor_url, floor, connections=connections, seconds=seconds)
    p95 = _p95(route_load)
    missed = []
    if p95 >= TARGET_P95_MS:
        missed.append("p95")
    if not route_load.clean or not route_alone.clean:
        missed.append("non-2xx or socket errors")
    return {
        "route": route.name,
        "label": route.label,
        "as": route.actor,
        "orgs": len(route.requests),
        "load": _summary(route_load),
        "alone_ms": round(route_alone.p50_ms, 3),
        "alone": _summary(route_alone),
        "statements": round((sent_after - sent) / max(asked_after - asked, 1), 1),
        "floor": _summary(floor_load),
        "floor_alone_ms": round(floor_alone.p50_ms, 3),
        "ratio": round(route_load.rps / max(floor_load.rps, 1e-9), 3),
        "loadavg": loadavg(),
        "missed": missed,
    }


class _Capture:
    """A stand-in reader (kit.reads): records what a repository function sends, answers
    nothing."""

    def __init__(self) -> None:
        self.sent: list[tuple[Any, dict[str, Any]]] = []

    async def records(self, statement: Any, **params: Any) -> list[Any]:
        self.sent.append((getattr(statement, "stmt", statement), params))
        return []

    async def record(self, statement: Any, **params: Any) -> Any:
        self.sent.append((getattr(statement, "stmt", statement), params))
        return None


async def explain(s: Stack, chosen: list[Route]) -> dict[str, list[dict[str, Any]]]:
    """EXPLAIN (ANALYZE, BUFFERS) of what each route's repository functions send."""
    engine = make_engine(s.database_url, pool_size=1)
    out: dict[str, list[dict[str, Any]]] = {}
    try:
        async with engine.connect() as conn:
            for route in chosen:
                plans = []
                for name, call in route.calls:
                    capture = _Capture()
                    await call(capture)
                    for statement, params in capture.sent:
                        if isinstance(statement, TextClause):
                            sql = statement.text
                        else:  # an ORM select without parameters of its own (the projects)
                            sql = str(
                                statement.compile(
                                    dialect=engine.dialect, compile_kwargs={"literal_binds": True}
                                )
                            )
                        rows = await conn.execute(text("EXPLAIN (ANALYZE, BUFFERS) " + sql), params)
                        plans.append({"call": name, "plan": [r[0] for r in rows]})
                out[route.name] = plans
    finally:
        await engine.dispose()
    return out


async def run(
    s: Stack,
    *,
    seconds: float,
    connections: int,
    alone: int,
    only: str = "",
    explain_plans: bool = False,
    say: Callable[[str], None] = stderr,
) -> dict[str, Any]:
    problems = await checks(s)
    for p in problems:
        say(f"  CHECK FAILED: {p}")
    floor = write_requests(s.work / "floor.tsv", [Request("GET", "/heartbeat/1")])
    chosen = [r for r in routes(s) if not only or only in r.name]
    before = loadavg()
    rows = []
    for route in chosen:
        say(f"  {route.name} … (load average {loadavg()})")
        rows.append(
            await measure(
                s, route, floor=floor, seconds=seconds, connections=connections, alone=alone
            )
        )
    plans = await explain(s, chosen) if explain_plans else {}
    return {
        "teachers": s.teachers,
        "tree": {
            "cities": s.seeded.tree.cities,
            "counties_per_city": s.seeded.tree.counties_per_city,
            "schools_per_county": s.seeded.tree.schools_per_county,
            "schools": s.seeded.tree.schools,
        },
        "connections": connections,
        "seconds": seconds,
        "alone_requests": alone,
        "target_p95_ms": TARGET_P95_MS,
        "settings": s.settings,
        "floor_app": str(s.floor_app),
        "cpus": os.cpu_count(),
        "loadavg_before": before,
        "loadavg_after": loadavg(),
        "setup_seconds": round(s.setup_seconds, 1),
        "seed_seconds": s.seeded.seconds,
        "seed_total_seconds": round(sum(s.seeded.seconds.values()), 1),
        "sizes": s.seeded.sizes,
        "checks": problems,
        "rows": rows,
        "explain": plans,
    }


# --- the report ---------------------------------------------------------------------------------


def _mb(n: int) -> str:
    return f"{n / 2**20:,.0f} MB"


def report(r: dict[str, Any]) -> list[str]:
    t = r["tree"]
    seeds = ", ".join(f"{k} {v:.1f}" for k, v in r["seed_seconds"].items())
    head = (
        f"{'route':<18}{'as':<15}{'orgs':>5}{'req/s':>8}{'p50':>7}{'p95':>7}{'p99':>7}"
        f"{'alone':>7}{'stmts':>6} │{'floor/s':>8}{'p50':>6}{'p95':>6}{'p99':>6}{'alone':>6} │"
        f"{'ratio':>7}  p95<{r['target_p95_ms']:g}"
    )
    lines = [
        f"insights dashboards: {r['teachers']:,} teachers in {t['schools']:,} schools "
        f"({t['cities']} cities × {t['counties_per_city']} counties × "
        f"{t['schools_per_county']} schools), {r['connections']} connections, "
        f"{r['seconds']:g} s per side, wrk -t1; alone = median of {r['alone_requests']} "
        f"sequential requests (wrk -c1); ms throughout; floor: {r['floor_app']} GET /heartbeat/1",
        *(f"  {s}" for s in r["settings"]),
        f"  seeded in {r['seed_total_seconds']:.0f} s ({seeds}); setup in "
        f"{r['setup_seconds']:.0f} s",
        "  tables: "
        + ", ".join(
            f"{name} {v['rows']:,} rows {_mb(v['bytes'])}" for name, v in r["sizes"].items()
        ),
        f"  {r['cpus']} CPUs; load average before {r['loadavg_before']}, after "
        f"{r['loadavg_after']}",
        *(f"  CHECK FAILED: {p}" for p in r["checks"]),
        head,
        "─" * len(head),
    ]
    for row in r["rows"]:
        load, floor = row["load"], row["floor"]
        lines.append(
            f"{row['route']:<18}{row['as']:<15}{row['orgs']:>5}{load['rps']:>8.0f}"
            f"{load['p50_ms']:>7.1f}{load['p95_ms']:>7.1f}{load['p99_ms']:>7.1f}"
            f"{row['alone_ms']:>7.2f}{row['statements']:>6.1f} │{floor['rps']:>8.0f}"
            f"{floor['p50_ms']:>6.1f}{floor['p95_ms']:>6.1f}{floor['p99_ms']:>6.1f}"
            f"{row['floor_alone_ms']:>6.2f} │{row['ratio']:>6.2f}×  "
            f"{'OK' if not row['missed'] else 'MISSED'}"
        )
    lines.append("verdicts (p95 under load < 50 ms at this size):")
    for row in r["rows"]:
        load = row["load"]
        verdict = "OK" if not row["missed"] else "MISSED (" + ", ".join(row["missed"]) + ")"
        lines.append(
            f"  {row['label']} as {row['as']}: p95 {load['p95_ms']:.1f} ms, "
            f"{load['rps']:.0f} req/s = {row['ratio']:.2f}× the floor's {row['floor']['rps']:.0f}"
            f" (load average then {row['loadavg'].split(' ')[0]}): {verdict}"
        )
        for side in ("alone", "load"):
            first = row[side].get("first_non2xx")
            if first:
                lines.append(f"    non-2xx ({side}): {row[side]['statuses']}, first: {first[:200]}")
    for route, plans in r["explain"].items():
        lines.append(f"EXPLAIN ANALYZE: {route}")
        for p in plans:
            lines.append(f"  -- {p['call']}")
            lines += [f"    {line}" for line in p["plan"]]
    return lines


async def main_async(args: argparse.Namespace) -> dict[str, Any]:
    async with stack(args.teachers, floor_dir=args.floor_dir) as s:
        stderr(f"ready in {s.setup_seconds:.0f} s; measuring …")
        return await run(
            s,
            seconds=args.seconds,
            connections=args.connections,
            alone=args.alone,
            only=args.only,
            explain_plans=args.explain,
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--teachers", type=int, default=1_000_000)
    parser.add_argument("--seconds", type=float, default=10.0, help="per side and route")
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument("--alone", type=int, default=200, help="sequential requests, alone")
    parser.add_argument("--only", default="", help="only the routes whose name contains this")
    parser.add_argument("--explain", action="store_true", help="EXPLAIN ANALYZE each route's SQL")
    parser.add_argument("--floor-dir", type=Path, default=DEFAULT_FLOOR_DIR)
    parser.add_argument("--json", action="store_true", help="print the results as JSON")
    args = parser.parse_args()
    require_wrk()
    if not (args.floor_dir / "floor_app.py").is_file():
        parser.error(f"no floor_app.py in {args.floor_dir}")
    result = uvloop.run(main_async(args))
    if args.json:
        json.dump(result, sys.stdout, ensure_ascii=False, indent=1, default=str)
        print()
    else:
        print("\n".join(report(result)))
    if result["checks"] or any(row["load"]["non2xx"] for row in result["rows"]):
        raise SystemExit(1)


if __name__ == "__main__":
    main()
