"""The data the side-by-side benchmarks read and write (bench.platform): one Shandong project with
`teachers` registered teachers spread over every school of the province, and what each service
holds for them, so that every measured route answers 200 with real rows.

Teachers are COPYed (their ID numbers really encrypted and blind-indexed, as enrollment stores
them: a teacher read decrypts the ciphertext); everything derived from them (registrations,
learning plans, lessons' reviewers, credits' teachers, selections, progress) is made by
INSERT … SELECT inside PostgreSQL, so 1,000,000 teachers need no client memory. What has rules
of its own goes through the services' use cases: courses (catalogue), the project's rule set,
the provider and its key, the review allocation (`allocate_reviews`) and the credit ledger
(`post_entries`, which keeps totals, teacher-years and org totals with the entries). A sample of
teachers gets gateway accounts, all with one password (one argon2 hash, computed once)."""

from __future__ import annotations

import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any

import asyncpg
from sqlalchemy.ext.asyncio import AsyncSession

from bench.enrollment_import import add_schools, id_number
from bench.enrollment_pages import TEACHER_COLUMNS, drop_secondary_indexes
from bench.learning_heartbeats import open_learning_window
from credits.ledger.service import EntryIn, post_entries
from enrollment.idcard import parse
from enrollment.teachers.history import ID_CONTEXT
from gateway.passwords import hash_password
from learning.catalog import service as catalog
from learning.catalog.schemas import CourseCreate
from learning.providers import registry
from learning.providers.schemas import ProviderCreate
from lessons.allocation.service import allocate_reviews
from lessons.reviews.rubric import RUBRIC
from yanxiu.contracts.envelope import OrgPath
from yanxiu.kit.auth import Principal, Role
from yanxiu.kit.db import make_engine, make_session_factory, plain_url
from yanxiu.kit.pii import PiiCipher

PROVINCE = "370000"  # Shandong: the project, its teachers and its rule set are the province's
SUBJECTS = ["语文", "数学", "英语", "科学", "音乐", "体育", "美术"]
VIDEO_SECONDS = 4 * 3600  # the heartbeats' video: nobody finishes it during a run
ELECTIVES = 40  # selectable by the benchmark's writes (0.5 h each: 20 h, under the 23 h cap)
SEEDED_ELECTIVES = 2  # selected by every teacher when seeded
ELECTIVE_HOURS = Decimal("0.5")
CHUNK = 10_000  # teachers per COPY batch and per ledger transaction
PROVINCE_ADMIN = Principal(
    user_id="bench-province-admin",
    role=Role.province_admin,
    org_path=(PROVINCE,),
    name="基准省管理员",
)


@dataclass(frozen=True)
class Placed:
    """A teacher of the sample: who, where, and the gateway login."""

    id: uuid.UUID
    path: tuple[str, str, str, str]  # province, city, county, school
    subject: str
    username: str


@dataclass
class Seeded:
    project_id: uuid.UUID
    year: int
    sample: list[Placed]
    video_course: uuid.UUID
    electives: list[uuid.UUID]  # never selected when seeded: the benchmark selects them
    provider_id: uuid.UUID
    provider_key_id: str
    provider_secret: str
    reviews: list[tuple[uuid.UUID, uuid.UUID]]  # (reviewer, assignment), not yet reviewed
    reviewer_paths: dict[uuid.UUID, tuple[str, str, str, str]]
    reviews_per_teacher: int
    lessons: int
    password: str
    seconds: dict[str, float] = field(default_factory=dict)  # load time per phase

    @property
    def school_path(self) -> tuple[str, str, str, str]:
        """The school whose admin registers teachers and exports (the first sampled one's)."""
        return self.sample[0].path


def review_scores() -> dict[str, int]:
    """A valid rubric score: most of each criterion's points."""
    return {key: points * 4 // 5 for key, (_name, points) in RUBRIC.items()}


async def _timed(seconds: dict[str, float], phase: str, work: Awaitable[Any]) -> Any:
    t0 = time.perf_counter()
    try:
        return await work
    finally:
        seconds[phase] = round(time.perf_counter() - t0, 1)


async def seed(
    url: str,
    *,
    teachers: int,
    sample: int,
    pii: PiiCipher,
    provider_cipher: PiiCipher,
    password: str,
    reviewers: int,
    say: Callable[[str], None] = print,
) -> Seeded:
    """Everything, on a freshly migrated database at `url`. `sample` teachers get gateway
    accounts (and the caller's tokens); the unreviewed assignments of the first `reviewers`
    teachers (by id, the sample among them) are the pool the review writes draw from."""
    year = date.today().year
    project_id = uuid.uuid4()
    seconds: dict[str, float] = {}
    conn = await asyncpg.connect(plain_url(url))
    engine = make_engine(url, pool_size=2)
    factory = make_session_factory(engine)
    try:
        say(f"  loading {teachers:,} teachers (COPY) …")
        await _timed(seconds, "enrollment", _enrollment(conn, url, teachers, project_id, year, pii))
        say("  plans, reviewers, credits' teachers, selections, progress (INSERT … SELECT) …")
        async with factory() as session, session.begin():
            courses = await _timed(seconds, "courses", _courses(session, project_id))
        await _timed(seconds, "derived", _derived(conn, project_id, year, courses))
        async with factory() as session, session.begin():
            provider = await registry.register(
                session, actor=PROVINCE_ADMIN, data=ProviderCreate(code="bench", name="基准机构")
            )
            key = await registry.issue_key(
                session, actor=PROVINCE_ADMIN, provider_id=provider.id, cipher=provider_cipher
            )
        per = 3 if teachers >= 2000 else 10  # small runs would run out of assignments
        say(f"  lessons and the review allocation ({per} per teacher, allocate_reviews) …")
        lessons = await _timed(seconds, "lessons", _lessons(conn, year))
        async with factory() as session, session.begin():
            await _timed(
                seconds,
                "allocation",
                allocate_reviews(
                    session, actor=PROVINCE_ADMIN, project_id=project_id, seed=year, per=per
                ),
            )
        say("  credit ledger: 2 entries per teacher (post_entries) …")
        await _timed(seconds, "ledger", _ledger(conn, factory, project_id))
        chosen = await _sample(conn, sample)
        await _timed(seconds, "accounts", _accounts(conn, chosen, password))
        pool, paths = await _review_pool(conn, project_id, max(reviewers, len(chosen)))
        await _timed(seconds, "analyze", conn.execute("ANALYZE"))
    finally:
        await engine.dispose()
        await conn.close()
    return Seeded(
        project_id=project_id,
        year=year,
        sample=chosen,
        video_course=courses["video"][0],
        electives=courses["pool"],
        provider_id=provider.id,
        provider_key_id=key.key_id,
        provider_secret=key.secret,
        reviews=pool,
        reviewer_paths=paths,
        reviews_per_teacher=per,
        lessons=lessons,
        password=password,
        seconds=seconds,
    )


# --- enrollment: schools, the project, teachers (COPY) and their registrations ---------------


def _teacher_rows(
    teachers: int, schools: list[asyncpg.Record], pii: PiiCipher
) -> Iterator[list[tuple[Any, ...]]]:
    """TEACHER_COLUMNS rows in chunks: valid ID numbers (enrollment_import.id_number), really
    encrypted and blind-indexed, spread round-robin over the schools."""
    for start in range(0, teachers, CHUNK):
        rows = []
        for i in range(start, min(teachers, start + CHUNK)):
            school = schools[i % len(schools)]
            idn = parse(id_number(i))
            rows.append(
                (
                    uuid.uuid4(),
                    f"教师{i}",
                    pii.encrypt(idn.value, context=ID_CONTEXT),
                    pii.blind_index(idn.value, context=ID_CONTEXT),
                    idn.gender,
                    idn.birth_date,
                    "primary",
                    SUBJECTS[i % len(SUBJECTS)],
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
        yield rows


async def _enrollment(
    conn: asyncpg.Connection,
    url: str,
    teachers: int,
    project_id: uuid.UUID,
    year: int,
    pii: PiiCipher,
) -> None:
    await add_schools(url, max(1, min(20, teachers // 2000)))  # as bench.enrollment_pages
    schools = await conn.fetch(
        "SELECT id, province_id, city_id, county_id FROM enrollment.orgs "
        "WHERE level = 'school' AND province_id = $1 ORDER BY id",
        PROVINCE,
    )
    today = date.today()
    opens, closes = today - timedelta(days=30), max(date(year, 12, 31), today + timedelta(days=30))
    await conn.execute(
        "INSERT INTO enrollment.projects (id, year, stage, name, owner_org_id, province_id, "
        "city_id, rule_set, counties_open_from, counties_open_until, schools_open_from, "
        "schools_open_until, registration_opens_on, registration_closes_on, "
        "submission_opens_on, submission_closes_on) VALUES ($1, $2, 'primary', $3, $4, $4, "
        "NULL, 'shandong-2023', $5, $6, $5, $6, $5, $6, $5, $6)",
        project_id,
        year,
        f"{year}年互联网+教师专业发展（基准）",
        PROVINCE,
        opens,
        closes,
    )
    async with conn.transaction():
        # A bulk load, as bench.enrollment_pages does it: secondary indexes built once
        # afterwards, FK triggers skipped where the role may (the rows are consistent).
        recreate = await drop_secondary_indexes(conn)
        if await conn.fetchval("SELECT rolsuper FROM pg_roles WHERE rolname = current_user"):
            await conn.execute("SET LOCAL session_replication_role = replica")
        await conn.execute("SET LOCAL maintenance_work_mem = '256MB'")
        for rows in _teacher_rows(teachers, schools, pii):
            await conn.copy_records_to_table(
                "teachers", schema_name="enrollment", columns=TEACHER_COLUMNS, records=rows
            )
        await conn.execute(
            "INSERT INTO enrollment.registrations (id, project_id, teacher_id, subject, city_id, "
            "county_id, school_id, registered_by) SELECT gen_random_uuid(), $1, id, subject, "
            "city_id, county_id, school_id, 'bench' FROM enrollment.teachers",
            project_id,
        )
        for statement in recreate:
            await conn.execute(statement)


# --- learning: courses, rules, plans, selections, progress; lessons' and credits' rosters -----


def _course(code: str, title: str, hours: Decimal, video_seconds: int) -> CourseCreate:
    # Subject electives open to every subject of the primary stage (no school topic needed).
    return CourseCreate(
        code=code,
        title=title,
        kind="elective",
        scope="subject",
        hours=hours,
        stages=["primary"],
        subjects=[],
        video_seconds=video_seconds,
    )


async def _courses(session: AsyncSession, project_id: uuid.UUID) -> dict[str, list[uuid.UUID]]:
    """The catalogue (through its use case) and the project's rules, every window open."""

    async def add(body: CourseCreate) -> uuid.UUID:
        return (await catalog.create_course(session, actor=PROVINCE_ADMIN, body=body)).id

    courses = {
        "video": [
            await add(_course("BENCH-VIDEO", "课堂教学视频（基准）", Decimal(2), VIDEO_SECONDS))
        ],
        "seeded": [
            await add(_course(f"BENCH-SEL-{n}", f"已选课程{n}", ELECTIVE_HOURS, 1200))
            for n in range(1, SEEDED_ELECTIVES + 1)
        ],
        "pool": [
            await add(_course(f"BENCH-EL-{n:02d}", f"选修课程{n}", ELECTIVE_HOURS, 1200))
            for n in range(1, ELECTIVES + 1)
        ],
    }
    await open_learning_window(session, project_id)
    return courses


async def _derived(
    conn: asyncpg.Connection,
    project_id: uuid.UUID,
    year: int,
    courses: dict[str, list[uuid.UUID]],
) -> None:
    teachers = "FROM enrollment.registrations r JOIN enrollment.teachers t ON t.id = r.teacher_id"
    await conn.execute(
        "INSERT INTO learning.plans (id, teacher_id, project_id, registration_id, project_year, "
        "teacher_name, stage, subject, province_id, city_id, county_id, school_id, status) "
        "SELECT gen_random_uuid(), t.id, r.project_id, r.id, $1, t.name, t.stage, r.subject, "
        f"t.province_id, t.city_id, t.county_id, t.school_id, 'active' {teachers}",
        year,
    )
    await conn.execute(
        "INSERT INTO lessons.reviewers (project_id, teacher_id, year, teacher_name, stage, "
        "subject, province_id, city_id, county_id, school_id, status) SELECT r.project_id, "
        "t.id, $1, t.name, t.stage, r.subject, t.province_id, t.city_id, t.county_id, "
        f"t.school_id, 'active' {teachers}",
        year,
    )
    await conn.execute(
        "INSERT INTO credits.teachers (teacher_id, name, province_id, city_id, county_id, "
        "school_id) SELECT id, name, province_id, city_id, county_id, school_id "
        "FROM enrollment.teachers"
    )
    await conn.execute(
        "INSERT INTO learning.selections (id, teacher_id, project_id, course_id) "
        "SELECT gen_random_uuid(), p.teacher_id, p.project_id, c FROM learning.plans p, "
        "unnest($1::uuid[]) AS c",
        courses["seeded"],
    )
    # Half of the first seeded elective watched, as a teacher's progress after a few evenings.
    await conn.execute(
        "INSERT INTO learning.course_progress (id, teacher_id, project_id, course_id, "
        "province_id, city_id, county_id, school_id, video_seconds, segments, watched_seconds, "
        "position, last_session, last_at, heartbeats) SELECT gen_random_uuid(), teacher_id, "
        "project_id, $1, province_id, city_id, county_id, school_id, 1200, '[[0, 600]]', 600, "
        "600, 'seeded', now() - interval '1 day', 60 FROM learning.plans",
        courses["seeded"][0],
    )
    for table in ("learning.plans", "lessons.reviewers", "credits.teachers", "learning.selections"):
        await conn.execute(f"ANALYZE {table}")


async def _lessons(conn: asyncpg.Connection, year: int) -> int:
    """City-level lessons by about 3 % of the teachers (bench.lessons_allocation's proportion:
    30,000 for 1,000,000), at least 15 per subject pool."""
    status = await conn.execute(
        "INSERT INTO lessons.lessons (id, year, teacher_id, teacher_name, stage, grade, subject, "
        "textbook_version, title, curriculum, video_url, province_id, city_id, county_id, "
        "school_id, level, track) SELECT gen_random_uuid(), $1, teacher_id, teacher_name, stage, "
        "'三年级', "
        "subject, '统编版', '课例' || n, 'national', 'https://v.example/lesson.mp4', "
        "province_id, city_id, county_id, school_id, 'city', 'competition' FROM ("
        "SELECT t.*, row_number() OVER (PARTITION BY subject ORDER BY teacher_id) AS n "
        "FROM lessons.reviewers t) AS t WHERE n <= 15 OR n % 33 = 0",
        year,
    )
    await conn.execute("ANALYZE lessons.lessons")
    return int(status.split()[-1])


async def _ledger(
    conn: asyncpg.Connection,
    factory: Callable[[], AsyncSession],
    project_id: uuid.UUID,
) -> None:
    """A project's 24 h and 3 h of offline training per teacher, through the ledger's own
    write (entries, category totals, teacher-years and org totals together)."""
    now = datetime.now(UTC) - timedelta(hours=1)
    async for chunk in _credit_teachers(conn):
        entries = []
        for r in chunk:
            org = OrgPath(
                province_id=r["province_id"],
                city_id=r["city_id"],
                county_id=r["county_id"],
                school_id=r["school_id"],
            )
            tid = r["teacher_id"]
            entries += [
                EntryIn(
                    teacher_id=tid,
                    source_kind="project",
                    source_id=f"{project_id}:{tid}",
                    category="project",
                    hours=Decimal(24),
                    occurred_at=now,
                    org=org,
                    description="互联网+教师专业发展（基准）",
                ),
                EntryIn(
                    teacher_id=tid,
                    source_kind="offline",
                    source_id=f"bench-offline:{tid}",
                    category="offline",
                    hours=Decimal(3),
                    occurred_at=now,
                    org=org,
                    description="线下集中培训（基准）",
                ),
            ]
        async with factory() as session, session.begin():
            await post_entries(session, entries, strict=False, actor="bench")


async def _credit_teachers(conn: asyncpg.Connection) -> AsyncIterator[list[asyncpg.Record]]:
    after = uuid.UUID(int=0)
    while True:
        chunk = await conn.fetch(
            "SELECT teacher_id, province_id, city_id, county_id, school_id FROM credits.teachers "
            "WHERE teacher_id > $1 ORDER BY teacher_id LIMIT $2",
            after,
            CHUNK,
        )
        if not chunk:
            return
        yield chunk
        after = chunk[-1]["teacher_id"]


# --- the sample: gateway accounts, and the assignments the review writes use ----------------


async def _sample(conn: asyncpg.Connection, n: int) -> list[Placed]:
    """The first `n` teachers by id: ids are random, so they are spread over the schools."""
    rows = await conn.fetch(
        "SELECT id, province_id, city_id, county_id, school_id, subject FROM enrollment.teachers "
        "ORDER BY id LIMIT $1",
        n,
    )
    return [
        Placed(
            id=r["id"],
            path=(r["province_id"], r["city_id"], r["county_id"], r["school_id"]),
            subject=r["subject"],
            username=f"bench{k:07d}",
        )
        for k, r in enumerate(rows)
    ]


async def _accounts(conn: asyncpg.Connection, sample: list[Placed], password: str) -> None:
    """One teacher login per sampled teacher; one argon2 hash serves them all."""
    hashed = hash_password(password)
    now = datetime.now(UTC)
    await conn.copy_records_to_table(
        "accounts",
        schema_name="gateway",
        columns=[
            "id",
            "username",
            "password_hash",
            "role",
            "org_path",
            "name",
            "teacher_id",
            "active",
            "failed_logins",
            "created_at",
        ],
        records=[
            (
                uuid.uuid4(),
                t.username,
                hashed,
                "teacher",
                list(t.path),
                "基准教师",
                t.id,
                True,
                0,
                now,
            )
            for t in sample
        ],
    )


async def _review_pool(
    conn: asyncpg.Connection, project_id: uuid.UUID, reviewers: int
) -> tuple[list[tuple[uuid.UUID, uuid.UUID]], dict[uuid.UUID, tuple[str, str, str, str]]]:
    """The assignments of the first `reviewers` teachers by id (in assignment id order, so
    consecutive reviews are by different teachers), and where those teachers are."""
    rows = await conn.fetch(
        "SELECT a.reviewer_id, a.id, t.province_id, t.city_id, t.county_id, t.school_id "
        "FROM lessons.assignments a JOIN (SELECT * FROM enrollment.teachers ORDER BY id "
        "LIMIT $2) t ON t.id = a.reviewer_id WHERE a.project_id = $1 ORDER BY a.id",
        project_id,
        reviewers,
    )
    paths = {
        r["reviewer_id"]: (r["province_id"], r["city_id"], r["county_id"], r["school_id"])
        for r in rows
    }
    return [(r["reviewer_id"], r["id"]) for r in rows], paths
