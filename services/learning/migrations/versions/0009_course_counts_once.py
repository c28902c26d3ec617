"""a course counts once per teacher and project: course identity, attempts, held completions

Every completion gets its course identity (`course_key`, the rule of
`yanxiu.contracts.learning.course_key_for`), backfilled from what the rows hold (for an xAPI
completion of a provider's own course, the activity id of its statement). Where a teacher has
several live completions of one course in a project (counted again under a new event or
statement id before this revision), the earliest stays and the others are revoked with a
reason, each with a CourseCompletionRevoked in the outbox so that the ledger reverses it too.
Then a partial unique index keeps one live completion per (teacher, project, course_key);
later reports of a course go to `completion_attempts` (attempts, held completions).

Revision ID: 0009
Revises: 0008
"""

import uuid
from datetime import UTC, datetime

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None

S = "learning"
REASON = "同一课程只计一次，重复的完成记录已撤销 a course counts once: duplicate revoked (0009)"

# `yanxiu.contracts.learning.normalised` in SQL: NFKC, lower case, no whitespace; hashed
# when longer than 120 characters.
NORMALISED = """
CREATE FUNCTION pg_temp.yx_normalised(t text) RETURNS text LANGUAGE sql IMMUTABLE AS $$
    SELECT CASE WHEN length(f) > 120
                THEN 'sha256:' || encode(sha256(convert_to(f, 'UTF8')), 'hex') ELSE f END
    FROM (SELECT lower(regexp_replace(normalize(t, NFKC), '\\s', '', 'g')) AS f) AS n
$$
"""
BACKFILL = """
UPDATE learning.completions c SET course_key = CASE
    WHEN c.course_id IS NOT NULL THEN 'course:' || c.course_id
    WHEN c.source IN ('review', 'school_based') THEN c.source || ':' || c.source_ref
    WHEN activity IS NOT NULL THEN 'provider:' || coalesce(c.provider_id, '-') || ':code:'
        || pg_temp.yx_normalised(substr(regexp_replace(rtrim(activity, '/'), '^.*/', ''), 1, 60))
    ELSE 'provider:' || coalesce(c.provider_id, '-') || ':title:'
        || pg_temp.yx_normalised(c.course_title)
    END
FROM (
    SELECT c2.id, x.statement -> 'object' ->> 'id' AS activity
    FROM learning.completions c2
    LEFT JOIN learning.xapi_statements x
        ON c2.source = 'xapi' AND x.id::text = c2.source_ref
) AS a
WHERE a.id = c.id
"""
REVOKE_DUPLICATES = """
WITH ranked AS (
    SELECT id, row_number() OVER (
        PARTITION BY teacher_id, project_id, course_key
        ORDER BY completed_at, created_at, id
    ) AS n
    FROM learning.completions WHERE revoked_at IS NULL
)
UPDATE learning.completions c SET revoked_at = now(), revoke_reason = :reason
FROM ranked r WHERE c.id = r.id AND r.n > 1
RETURNING c.id, c.teacher_id, c.project_id, c.revoked_at
"""
OUTBOX = """
INSERT INTO learning.outbox (event_id, topic, key, event_type, payload)
VALUES (:event_id, :topic, :key, :event_type, :payload)
"""


def _ts(name: str, *, nullable: bool = False, default: bool = False) -> sa.Column[object]:
    return sa.Column(
        name,
        sa.DateTime(timezone=True),
        server_default=sa.text("now()") if default else None,
        nullable=nullable,
    )


def _revoke_duplicates(conn: sa.Connection) -> None:
    """Revoke the later duplicates and tell the ledger (CourseCompletionRevoked, as the service
    would have written it)."""
    from yanxiu.contracts.envelope import OrgPath
    from yanxiu.contracts.learning import CourseCompletionRevoked

    revoked = conn.execute(sa.text(REVOKE_DUPLICATES), {"reason": REASON[:200]}).all()
    if not revoked:
        return
    plans = {
        (r.teacher_id, r.project_id): r
        for r in conn.execute(
            sa.text(
                "SELECT teacher_id, project_id, project_year, province_id, city_id, county_id,"
                " school_id FROM learning.plans WHERE (teacher_id, project_id) IN"
                " (SELECT * FROM unnest(CAST(:t AS uuid[]), CAST(:p AS uuid[])))"
            ),
            {"t": [r.teacher_id for r in revoked], "p": [r.project_id for r in revoked]},
        ).all()
    }
    rows = []
    for r in revoked:
        plan = plans.get((r.teacher_id, r.project_id))
        if plan is None:  # no plan, no ledger entry of it either
            continue
        event = CourseCompletionRevoked(
            completion_id=r.id,
            teacher_id=r.teacher_id,
            project_id=r.project_id,
            project_year=plan.project_year,
            reason=REASON,
            org=OrgPath(
                province_id=plan.province_id,
                city_id=plan.city_id,
                county_id=plan.county_id,
                school_id=plan.school_id,
            ),
            revoked_at=r.revoked_at or datetime.now(UTC),
        )
        env = event.envelope(producer="learning", trace_id=f"migration-0009-{uuid.uuid4().hex}")
        rows.append(
            {
                "event_id": env.id,
                "topic": event.TOPIC,
                "key": env.key,
                "event_type": env.type,
                "payload": env.model_dump_json().encode(),
            }
        )
    if rows:
        conn.execute(sa.text(OUTBOX), rows)


def upgrade() -> None:
    op.add_column("completions", sa.Column("course_key", sa.String(length=240)), schema=S)
    op.add_column(
        "completions", sa.Column("best_score", sa.Numeric(precision=5, scale=1)), schema=S
    )
    conn = op.get_bind()
    conn.execute(sa.text(NORMALISED))
    conn.execute(sa.text(BACKFILL))
    conn.execute(sa.text("DROP FUNCTION pg_temp.yx_normalised(text)"))
    op.alter_column("completions", "course_key", nullable=False, schema=S)
    _revoke_duplicates(conn)
    op.create_index(
        "uq_completions_live_course",
        "completions",
        ["teacher_id", "project_id", "course_key"],
        unique=True,
        schema=S,
        postgresql_where=sa.text("revoked_at IS NULL"),
    )
    op.create_table(
        "completion_attempts",
        sa.Column("id", sa.UUID(), nullable=False),
        sa.Column("teacher_id", sa.UUID(), nullable=False),
        sa.Column("project_id", sa.UUID(), nullable=False),
        sa.Column("course_key", sa.String(length=240), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("source", sa.String(length=20), nullable=False),
        sa.Column("source_ref", sa.String(length=200), nullable=False),
        sa.Column("course_id", sa.UUID(), nullable=True),
        sa.Column("course_code", sa.String(length=60), nullable=True),
        sa.Column("course_title", sa.String(length=200), nullable=False),
        sa.Column("category", sa.String(length=40), nullable=False),
        sa.Column("topic_id", sa.String(length=40), nullable=True),
        sa.Column("hours", sa.Numeric(precision=5, scale=1), nullable=False),
        sa.Column("provider_id", sa.String(length=64), nullable=True),
        sa.Column("score", sa.Numeric(precision=5, scale=1), nullable=True),
        _ts("completed_at"),
        sa.Column("completion_id", sa.UUID(), nullable=True),
        sa.Column("reason", sa.String(length=300), nullable=True),
        sa.Column("decided_by", sa.String(length=64), nullable=True),
        _ts("decided_at", nullable=True),
        _ts("created_at", default=True),
        sa.CheckConstraint(
            "status IN ('attempt', 'promoted', 'held', 'accepted', 'rejected', 'withdrawn')",
            name=op.f("ck_completion_attempts_status"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_completion_attempts")),
        sa.UniqueConstraint(
            "source", "source_ref", name=op.f("uq_completion_attempts_source_source_ref")
        ),
        schema=S,
    )
    op.create_index(
        "ix_completion_attempts_course",
        "completion_attempts",
        ["teacher_id", "project_id", "course_key"],
        schema=S,
    )
    op.create_index(
        "ix_completion_attempts_held",
        "completion_attempts",
        ["project_id", "created_at"],
        schema=S,
        postgresql_where=sa.text("status = 'held'"),
    )


def downgrade() -> None:
    op.drop_index("ix_completion_attempts_held", table_name="completion_attempts", schema=S)
    op.drop_index("ix_completion_attempts_course", table_name="completion_attempts", schema=S)
    op.drop_table("completion_attempts", schema=S)
    op.drop_index("uq_completions_live_course", table_name="completions", schema=S)
    op.drop_column("completions", "best_score", schema=S)
    op.drop_column("completions", "course_key", schema=S)
