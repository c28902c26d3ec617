"""All SQL of progress. Batch statements are set-based (unnest arrays, COPY): one round trip
per table per batch, whatever the batch size."""

from __future__ import annotations

import json
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import any_, bindparam, cast, func, select, text
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.dialects.postgresql import UUID as PgUUID
from sqlalchemy.ext.asyncio import AsyncSession

from learning.catalog.models import Course
from learning.progress.models import AssessmentAttempt, CourseProgress
from learning.progress.verification import CourseState, Segment, ViewerState

Key = tuple[uuid.UUID, uuid.UUID, uuid.UUID]  # teacher, course, project
Org = tuple[str, str, str, str]  # province, city, county, school


@dataclass(frozen=True)
class CourseInfo:
    id: uuid.UUID
    title: str
    video_seconds: int
    category: str
    pass_mark: int | None
    questions: list[dict[str, Any]]

    @property
    def window(self) -> str:
        """The window the course is learnt in (subject required courses have their own)."""
        return "subject_required" if self.category == "subject_required" else "learning"

    @property
    def has_assessment(self) -> bool:
        return bool(self.questions)


@dataclass
class ProgressRow:
    id: uuid.UUID
    state: CourseState
    watched_at: datetime | None
    passed_at: datetime | None
    completed_at: datetime | None
    heartbeats: int = 0
    refused: int = 0


def _category(delivery: str, scope: str, kind: str) -> str:
    return "school_based" if delivery == "school_based" else f"{scope}_{kind}"


# Batch queries take arrays (`= ANY`, `unnest`), never expanded IN lists: the SQL text is the
# same whatever the batch size, so each statement is prepared once per connection.


async def courses(session: AsyncSession, ids: Sequence[uuid.UUID]) -> dict[uuid.UUID, CourseInfo]:
    stmt = select(
        Course.id,
        Course.title,
        Course.video_seconds,
        Course.delivery,
        Course.scope,
        Course.kind,
        Course.pass_mark,
        Course.assessment,
    ).where(Course.id == any_(cast(bindparam("ids"), ARRAY(PgUUID(as_uuid=True)))))
    return {
        r.id: CourseInfo(
            id=r.id,
            title=r.title,
            video_seconds=r.video_seconds,
            category=_category(r.delivery, r.scope, r.kind),
            pass_mark=r.pass_mark,
            questions=list(r.assessment or []),
        )
        for r in (await session.execute(stmt, {"ids": list(ids)})).all()
    }


async def active_plans(
    session: AsyncSession, pairs: Sequence[tuple[uuid.UUID, uuid.UUID]]
) -> dict[tuple[uuid.UUID, uuid.UUID], Org]:
    """(teacher, project) → org path, for the pairs with an active plan (registered teachers)."""
    rows = await session.execute(
        text(
            "SELECT p.teacher_id, p.project_id, p.province_id, p.city_id, p.county_id, "
            "p.school_id FROM unnest(CAST(:t AS uuid[]), CAST(:p AS uuid[])) AS u(t, p) "
            "JOIN learning.plans p ON p.teacher_id = u.t AND p.project_id = u.p "
            "WHERE p.status = 'active'"
        ),
        {"t": [t for t, _ in pairs], "p": [p for _, p in pairs]},
    )
    return {
        (r.teacher_id, r.project_id): (r.province_id, r.city_id, r.county_id, r.school_id)
        for r in rows
    }


@dataclass(frozen=True)
class Opened:
    """What a heartbeat batch learns in its first statement: the courses, the active plans
    (and which of them are not started yet), the viewer rows of those plans' teachers
    (locked), and each project's rule-set version."""

    courses: dict[uuid.UUID, CourseInfo]
    plans: dict[tuple[uuid.UUID, uuid.UUID], Org]
    unstarted: set[tuple[uuid.UUID, uuid.UUID]]
    viewers: dict[uuid.UUID, ViewerState]
    rule_versions: dict[uuid.UUID, str]  # project → the version of its rule set (the row's xmin)


# One round trip instead of four: the plans of the batch, the viewer rows of their teachers
# created where missing and locked in teacher order (overlapping batches cannot deadlock), the
# courses and the rule-set versions, each as an array of records.
_OPEN_BATCH = text(
    "WITH u AS (SELECT * FROM unnest(CAST(:t AS uuid[]), CAST(:p AS uuid[])) AS u(t, p)), "
    "pl AS (SELECT p.teacher_id, p.project_id, p.province_id, p.city_id, p.county_id, "
    "p.school_id, p.started_at IS NULL AS unstarted "
    "FROM u JOIN learning.plans p ON p.teacher_id = u.t AND p.project_id = u.p "
    "WHERE p.status = 'active'), "
    "v AS (INSERT INTO learning.progress_viewers AS v (teacher_id) "
    "SELECT DISTINCT teacher_id FROM pl ORDER BY teacher_id "
    "ON CONFLICT (teacher_id) DO UPDATE SET teacher_id = EXCLUDED.teacher_id "
    "RETURNING v.teacher_id, v.session_id, v.retired_sessions, v.last_at) "
    "SELECT (SELECT array_agg(ROW(pl.teacher_id, pl.project_id, pl.province_id, pl.city_id, "
    "pl.county_id, pl.school_id, pl.unstarted)) FROM pl) AS plans, "
    "(SELECT array_agg(ROW(v.teacher_id, v.session_id, "
    "CAST(v.retired_sessions AS text[]), v.last_at)) FROM v) AS viewers, "
    "(SELECT array_agg(ROW(c.id, c.title, c.video_seconds, c.delivery, c.scope, c.kind, "
    "c.pass_mark, c.assessment)) FROM learning.courses c "
    "WHERE c.id = ANY(CAST(:c AS uuid[]))) AS courses, "
    "(SELECT array_agg(ROW(r.project_id, r.xmin::text)) FROM learning.project_rules r "
    "WHERE r.project_id = ANY(CAST(:r AS uuid[]))) AS rules"
)


def _json(value: Any) -> Any:
    """A json field of an anonymous record: text here (the connection's codec decodes only
    top-level columns)."""
    return json.loads(value) if isinstance(value, str) else value


async def open_batch(
    session: AsyncSession,
    pairs: Sequence[tuple[uuid.UUID, uuid.UUID]],
    course_ids: Sequence[uuid.UUID],
) -> Opened:
    """The first statement of a heartbeat batch (see `_OPEN_BATCH`)."""
    row = (
        await session.execute(
            _OPEN_BATCH,
            {
                "t": [t for t, _ in pairs],
                "p": [p for _, p in pairs],
                "c": list(course_ids),
                "r": list({p for _, p in pairs}),
            },
        )
    ).one()
    return Opened(
        courses={
            c[0]: CourseInfo(
                id=c[0],
                title=c[1],
                video_seconds=c[2],
                category=_category(c[3], c[4], c[5]),
                pass_mark=c[6],
                questions=list(_json(c[7]) or []),
            )
            for c in row.courses or ()
        },
        plans={(p[0], p[1]): (p[2], p[3], p[4], p[5]) for p in row.plans or ()},
        unstarted={(p[0], p[1]) for p in row.plans or () if p[6]},
        viewers={
            v[0]: ViewerState(session_id=v[1], retired=list(v[2] or []), last_at=v[3])
            for v in row.viewers or ()
        },
        rule_versions={r[0]: r[1] for r in row.rules or ()},
    )


async def lock_viewers(
    session: AsyncSession, teacher_ids: Sequence[uuid.UUID]
) -> dict[uuid.UUID, ViewerState]:
    """Creates missing viewer rows and locks every one, in teacher order (overlapping batches
    cannot deadlock), in one statement. Holding them serialises every progress write of these
    teachers, in this process and in others."""
    rows = await session.execute(
        text(
            "INSERT INTO learning.progress_viewers AS v (teacher_id) "
            "SELECT t FROM unnest(CAST(:ids AS uuid[])) AS t ORDER BY t "
            "ON CONFLICT (teacher_id) DO UPDATE SET teacher_id = EXCLUDED.teacher_id "
            "RETURNING v.teacher_id, v.session_id, v.retired_sessions, v.last_at"
        ),
        {"ids": sorted(set(teacher_ids))},
    )
    return {
        r.teacher_id: ViewerState(
            session_id=r.session_id, retired=list(r.retired_sessions or []), last_at=r.last_at
        )
        for r in rows
    }


_PROGRESS_COLUMNS = (
    "id, teacher_id, course_id, project_id, segments, position, last_session, last_at, "
    "watched_at, passed_at, completed_at"
)
# New rows come back from the INSERT, existing ones from the SELECT: both in one statement. No
# other transaction can be writing these keys meanwhile: it would hold the teacher's viewer lock.
_PROGRESS_LOAD = text(
    "WITH u AS (SELECT * FROM unnest(CAST(:id AS uuid[]), CAST(:t AS uuid[]), "
    "CAST(:c AS uuid[]), CAST(:p AS uuid[]), CAST(:prov AS text[]), CAST(:city AS text[]), "
    "CAST(:county AS text[]), CAST(:school AS text[]), CAST(:video AS int[])) "
    "AS u(id, t, c, p, prov, city, county, school, video)), "
    "ins AS (INSERT INTO learning.course_progress (id, teacher_id, course_id, project_id, "
    "province_id, city_id, county_id, school_id, video_seconds) SELECT * FROM u "
    "ON CONFLICT (teacher_id, course_id, project_id) DO NOTHING "
    f"RETURNING {_PROGRESS_COLUMNS}) "
    f"SELECT {_PROGRESS_COLUMNS} FROM ins UNION ALL "
    f"SELECT {', '.join('c.' + c.strip() for c in _PROGRESS_COLUMNS.split(','))} "
    "FROM u JOIN learning.course_progress c "
    "ON c.teacher_id = u.t AND c.course_id = u.c AND c.project_id = u.p"
).columns(
    CourseProgress.id,
    CourseProgress.teacher_id,
    CourseProgress.course_id,
    CourseProgress.project_id,
    CourseProgress.segments,
    CourseProgress.position,
    CourseProgress.last_session,
    CourseProgress.last_at,
    CourseProgress.watched_at,
    CourseProgress.passed_at,
    CourseProgress.completed_at,
)


def _row(r: Any, video_seconds: int) -> ProgressRow:
    segments: list[Segment] = [(float(s), float(e)) for s, e in r.segments or []]
    return ProgressRow(
        id=r.id,
        state=CourseState(
            video_seconds=video_seconds,
            segments=segments,
            position=r.position,
            last_session=r.last_session,
            last_at=r.last_at,
        ),
        watched_at=r.watched_at,
        passed_at=r.passed_at,
        completed_at=r.completed_at,
    )


async def load_progress(
    session: AsyncSession, wanted: dict[Key, tuple[Org, int]]
) -> dict[Key, ProgressRow]:
    """The progress rows of these (teacher, course, project) keys, created when missing (with
    the teacher's org path and the course's current video length), in one statement. Callers
    hold the teachers' viewer locks."""
    keys = sorted(wanted)
    params = {
        "id": [uuid.uuid4() for _ in keys],
        "t": [k[0] for k in keys],
        "c": [k[1] for k in keys],
        "p": [k[2] for k in keys],
        "prov": [wanted[k][0][0] for k in keys],
        "city": [wanted[k][0][1] for k in keys],
        "county": [wanted[k][0][2] for k in keys],
        "school": [wanted[k][0][3] for k in keys],
        "video": [wanted[k][1] for k in keys],
    }
    out: dict[Key, ProgressRow] = {}
    for r in (await session.execute(_PROGRESS_LOAD, params)).all():
        key = (r.teacher_id, r.course_id, r.project_id)
        out[key] = _row(r, wanted[key][1])
    return out


# All of a batch's writes in one statement: data-modifying CTEs run once and to completion.
_SAVE_BATCH = text(
    "WITH v AS (UPDATE learning.progress_viewers v SET session_id = u.session_id, "
    "retired_sessions = string_to_array(u.retired, ','), last_at = u.last_at, "
    "updated_at = now() FROM unnest(CAST(:v_id AS uuid[]), CAST(:v_session AS text[]), "
    "CAST(:v_retired AS text[]), CAST(:v_last_at AS timestamptz[])) "
    "AS u(teacher_id, session_id, retired, last_at) WHERE v.teacher_id = u.teacher_id), "
    "p AS (UPDATE learning.course_progress p SET segments = u.segments, "
    "watched_seconds = u.watched, position = u.position, last_session = u.last_session, "
    "last_at = u.last_at, heartbeats = p.heartbeats + u.heartbeats, "
    "refused = p.refused + u.refused, watched_at = u.watched_at, "
    "completed_at = u.completed_at, video_seconds = u.video, updated_at = now() "
    "FROM unnest(CAST(:p_id AS uuid[]), CAST(:p_segments AS jsonb[]), "
    "CAST(:p_watched AS float8[]), CAST(:p_position AS float8[]), "
    "CAST(:p_last_session AS text[]), CAST(:p_last_at AS timestamptz[]), "
    "CAST(:p_heartbeats AS int[]), CAST(:p_refused AS int[]), "
    "CAST(:p_watched_at AS timestamptz[]), CAST(:p_completed_at AS timestamptz[]), "
    "CAST(:p_video AS int[])) AS u(id, segments, watched, position, last_session, last_at, "
    "heartbeats, refused, watched_at, completed_at, video) WHERE p.id = u.id), "
    "h AS (INSERT INTO learning.heartbeats (teacher_id, project_id, course_id, session_id, "
    "position, segments, client_at, received_at, outcome, credited_seconds) "
    "SELECT * FROM unnest(CAST(:h_teacher AS uuid[]), CAST(:h_project AS uuid[]), "
    "CAST(:h_course AS uuid[]), CAST(:h_session AS text[]), CAST(:h_position AS float8[]), "
    "CAST(:h_segments AS jsonb[]), CAST(:h_client_at AS timestamptz[]), "
    "CAST(:h_received_at AS timestamptz[]), CAST(:h_outcome AS text[]), "
    "CAST(:h_credited AS float8[]))), "
    "r AS (INSERT INTO learning.progress_refusals (project_id, school_id, day, reason, "
    "province_id, city_id, county_id, count) SELECT * FROM unnest("
    "CAST(:r_project AS uuid[]), CAST(:r_school AS text[]), CAST(:r_day AS date[]), "
    "CAST(:r_reason AS text[]), CAST(:r_prov AS text[]), CAST(:r_city AS text[]), "
    "CAST(:r_county AS text[]), CAST(:r_n AS bigint[])) "
    "ON CONFLICT (project_id, school_id, day, reason) "
    "DO UPDATE SET count = learning.progress_refusals.count + EXCLUDED.count) "
    "SELECT 1"
)

Log = tuple[Any, ...]  # one heartbeats row, in HEARTBEAT_COLUMNS order (segments as JSON text)
HEARTBEAT_COLUMNS = (
    "teacher_id",
    "project_id",
    "course_id",
    "session_id",
    "position",
    "segments",
    "client_at",
    "received_at",
    "outcome",
    "credited_seconds",
)
RefusalKey = tuple[uuid.UUID, Org, date, str]  # project, org path, day, reason


async def save_batch(
    session: AsyncSession,
    *,
    viewers: dict[uuid.UUID, ViewerState],
    rows: Sequence[ProgressRow],
    log: Sequence[Log],
    refusals: dict[RefusalKey, int],
) -> None:
    """Writes a verified batch: viewer clocks, progress rows, the heartbeat log and the refusal
    counters (rows in key order, so overlapping batches lock in the same order)."""
    vs = sorted(viewers.items())
    ps = sorted(rows, key=lambda r: r.id)
    rs = sorted(refusals.items(), key=lambda kv: (kv[0][0], kv[0][1][3], kv[0][2], kv[0][3]))
    cols: list[Sequence[Any]] = (
        list(zip(*log, strict=True)) if log else [() for _ in HEARTBEAT_COLUMNS]
    )
    params: dict[str, Any] = {
        "v_id": [k for k, _ in vs],
        "v_session": [v.session_id for _, v in vs],
        # Session ids are validated to hold no comma (schemas.SESSION_PATTERN).
        "v_retired": [",".join(v.retired) for _, v in vs],
        "v_last_at": [v.last_at for _, v in vs],
        "p_id": [r.id for r in ps],
        "p_segments": [json.dumps([list(s) for s in r.state.segments]) for r in ps],
        "p_watched": [r.state.watched_seconds for r in ps],
        "p_position": [r.state.position for r in ps],
        "p_last_session": [r.state.last_session for r in ps],
        "p_last_at": [r.state.last_at for r in ps],
        "p_heartbeats": [r.heartbeats for r in ps],
        "p_refused": [r.refused for r in ps],
        "p_watched_at": [r.watched_at for r in ps],
        "p_completed_at": [r.completed_at for r in ps],
        "p_video": [r.state.video_seconds for r in ps],
        "r_project": [k[0] for k, _ in rs],
        "r_school": [k[1][3] for k, _ in rs],
        "r_day": [k[2] for k, _ in rs],
        "r_reason": [k[3] for k, _ in rs],
        "r_prov": [k[1][0] for k, _ in rs],
        "r_city": [k[1][1] for k, _ in rs],
        "r_county": [k[1][2] for k, _ in rs],
        "r_n": [n for _, n in rs],
    }
    for name, values in zip(
        (
            "h_teacher",
            "h_project",
            "h_course",
            "h_session",
            "h_position",
            "h_segments",
            "h_client_at",
            "h_received_at",
            "h_outcome",
            "h_credited",
        ),
        cols,
        strict=True,
    ):
        params[name] = list(values)
    await session.execute(_SAVE_BATCH, params)


# --- assessments and reads ------------------------------------------------------------------


async def add_attempt(session: AsyncSession, attempt: AssessmentAttempt) -> None:
    session.add(attempt)
    await session.flush()


async def count_attempts(
    session: AsyncSession, *, teacher_id: uuid.UUID, course_id: uuid.UUID, project_id: uuid.UUID
) -> int:
    a = AssessmentAttempt
    stmt = select(func.count()).where(
        a.teacher_id == teacher_id, a.course_id == course_id, a.project_id == project_id
    )
    return int((await session.execute(stmt)).scalar_one())


async def record_assessment(
    session: AsyncSession,
    *,
    row_id: uuid.UUID,
    score: int,
    passed_at: datetime | None,
    completed_at: datetime | None,
) -> None:
    await session.execute(
        text(
            "UPDATE learning.course_progress SET attempts = attempts + 1, "
            "best_score = GREATEST(COALESCE(best_score, 0), :score), "
            "passed_at = COALESCE(passed_at, :passed_at), "
            "completed_at = COALESCE(completed_at, :completed_at), updated_at = now() "
            "WHERE id = :id"
        ),
        {"id": row_id, "score": score, "passed_at": passed_at, "completed_at": completed_at},
    )


async def lock_progress_for_assessment(
    session: AsyncSession, key: Key, org: Org, video_seconds: int
) -> ProgressRow:
    """The row of one (teacher, course, project), created if missing, under the teacher's
    viewer lock (the same lock every heartbeat batch takes)."""
    await lock_viewers(session, [key[0]])
    rows = await load_progress(session, {key: (org, video_seconds)})
    return rows[key]
