"""a course counts once in the ledger: one live entry per (teacher, project, course)

Course-completion entries carry their project and course identity (`course_key`, from
learning's CourseCompleted). `course_slots` holds the live entry of each (teacher, project,
course_key); the trigger `ledger_course_slot` fills it on every insert into the append-only
ledger, so a second live entry of a course fails in the database itself (unique_violation,
constraint `uq_ledger_one_live_course`), and the reversal of an entry frees its slot.
Entries written before this revision have no course_key and take no slot.

Revision ID: 0009
Revises: 0008
"""

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None

S = "credits"

SLOT_FUNCTION = r"""
CREATE FUNCTION credits.ledger_course_slot() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF NEW.course_key IS NOT NULL THEN
        INSERT INTO credits.course_slots (teacher_id, project_id, course_key, entry_id)
        VALUES (NEW.teacher_id, NEW.project_id, NEW.course_key, NEW.id)
        ON CONFLICT DO NOTHING;
        IF NOT FOUND THEN
            RAISE EXCEPTION 'uq_ledger_one_live_course: course % of teacher % in project % '
                'has a live ledger entry already', NEW.course_key, NEW.teacher_id, NEW.project_id
                USING ERRCODE = 'unique_violation', CONSTRAINT = 'uq_ledger_one_live_course',
                      SCHEMA = 'credits', TABLE = 'ledger_entries';
        END IF;
    ELSIF NEW.source_kind = 'reversal' AND NEW.source_id ~ '^[0-9a-fA-F-]{36}$' THEN
        DELETE FROM credits.course_slots WHERE entry_id = CAST(NEW.source_id AS uuid);
    END IF;
    RETURN NULL;
END $$
"""


def upgrade() -> None:
    op.add_column("ledger_entries", sa.Column("project_id", sa.UUID(), nullable=True), schema=S)
    op.add_column(
        "ledger_entries", sa.Column("course_key", sa.String(length=240), nullable=True), schema=S
    )
    op.create_check_constraint(
        op.f("ck_ledger_entries_course_in_project"),
        "ledger_entries",
        "course_key IS NULL OR project_id IS NOT NULL",
        schema=S,
    )
    op.create_table(
        "course_slots",
        sa.Column("teacher_id", sa.UUID(), nullable=False),
        sa.Column("project_id", sa.UUID(), nullable=False),
        sa.Column("course_key", sa.String(length=240), nullable=False),
        sa.Column("entry_id", sa.UUID(), nullable=False),
        sa.PrimaryKeyConstraint(
            "teacher_id", "project_id", "course_key", name=op.f("pk_course_slots")
        ),
        sa.UniqueConstraint("entry_id", name=op.f("uq_course_slots_entry_id")),
        schema=S,
    )
    op.execute(SLOT_FUNCTION)
    op.execute(
        "CREATE TRIGGER ledger_course_slot AFTER INSERT ON credits.ledger_entries FOR EACH ROW "
        "WHEN (NEW.course_key IS NOT NULL OR NEW.source_kind = 'reversal') "
        "EXECUTE FUNCTION credits.ledger_course_slot()"
    )


def downgrade() -> None:
    op.execute("DROP TRIGGER ledger_course_slot ON credits.ledger_entries")
    op.execute("DROP FUNCTION credits.ledger_course_slot()")
    op.drop_table("course_slots", schema=S)
    op.drop_constraint(
        op.f("ck_ledger_entries_course_in_project"), "ledger_entries", type_="check", schema=S
    )
    op.drop_column("ledger_entries", "course_key", schema=S)
    op.drop_column("ledger_entries", "project_id", schema=S)
