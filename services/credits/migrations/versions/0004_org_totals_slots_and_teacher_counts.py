"""org totals in slots; teachers counted per org by triggers

Every consumer transaction used to add to its city's one totals row, so concurrent
consumers queued on that row. Each transaction now adds to one of 16 slots of the org
(picked at random), and a report sums the slots. The report's denominators, teachers per
org, were a count over the teachers read model; statement-level triggers on that table now
keep them, whatever writes it (a registration, a transfer, a bulk load).

Revision ID: 0004
Revises: 0003
"""

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None

_PER_ORG = """
    SELECT level, org_id, max(parent_id) AS parent_id, count(*) AS n FROM (
        SELECT 'city' AS level, city_id AS org_id, province_id AS parent_id FROM {rows}
        UNION ALL SELECT 'county', county_id, city_id FROM {rows}
        UNION ALL SELECT 'school', school_id, county_id FROM {rows}) x
    GROUP BY level, org_id
"""
_MOVE = """
    INSERT INTO credits.org_teachers AS o (level, org_id, parent_id, teachers)
    SELECT level, org_id, parent_id, {sign} n FROM ({per_org}) c ORDER BY level, org_id
    ON CONFLICT (level, org_id) DO UPDATE SET teachers = o.teachers + EXCLUDED.teachers,
        parent_id = CASE WHEN EXCLUDED.teachers > 0 THEN EXCLUDED.parent_id
                         ELSE o.parent_id END
"""


def upgrade() -> None:
    # Totals are updated in place batch after batch: room on each page keeps those updates
    # on the page (HOT) instead of writing a new index entry every time.
    for table in ("ledger_totals", "teacher_years", "org_year_totals"):
        op.execute(f"ALTER TABLE credits.{table} SET (fillfactor = 70)")
    op.add_column(
        "org_year_totals",
        sa.Column("slot", sa.SmallInteger(), nullable=False, server_default="0"),
        schema="credits",
    )
    op.drop_constraint("pk_org_year_totals", "org_year_totals", schema="credits", type_="primary")
    op.create_primary_key(
        "pk_org_year_totals",
        "org_year_totals",
        ["year", "level", "org_id", "slot"],
        schema="credits",
    )
    op.create_table(
        "org_teachers",
        sa.Column("level", sa.String(length=10), nullable=False),
        sa.Column("org_id", sa.String(length=40), nullable=False),
        sa.Column("parent_id", sa.String(length=40), nullable=False),
        sa.Column("teachers", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("level", "org_id", name=op.f("pk_org_teachers")),
        schema="credits",
    )
    op.create_index(
        "ix_org_teachers_parent", "org_teachers", ["level", "parent_id"], schema="credits"
    )
    op.execute(_MOVE.format(sign="", per_org=_PER_ORG.format(rows="credits.teachers")))
    op.execute(
        f"""CREATE FUNCTION credits.org_teachers_count() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
            IF TG_OP IN ('UPDATE', 'DELETE') THEN
                {_MOVE.format(sign="-", per_org=_PER_ORG.format(rows="old_rows"))};
            END IF;
            IF TG_OP IN ('INSERT', 'UPDATE') THEN
                {_MOVE.format(sign="", per_org=_PER_ORG.format(rows="new_rows"))};
            END IF;
            RETURN NULL;
        END $$"""
    )
    op.execute(
        "CREATE TRIGGER org_teachers_on_insert AFTER INSERT ON credits.teachers "
        "REFERENCING NEW TABLE AS new_rows "
        "FOR EACH STATEMENT EXECUTE FUNCTION credits.org_teachers_count()"
    )
    op.execute(
        "CREATE TRIGGER org_teachers_on_update AFTER UPDATE ON credits.teachers "
        "REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows "
        "FOR EACH STATEMENT EXECUTE FUNCTION credits.org_teachers_count()"
    )
    op.execute(
        "CREATE TRIGGER org_teachers_on_delete AFTER DELETE ON credits.teachers "
        "REFERENCING OLD TABLE AS old_rows "
        "FOR EACH STATEMENT EXECUTE FUNCTION credits.org_teachers_count()"
    )


def downgrade() -> None:
    for table in ("ledger_totals", "teacher_years", "org_year_totals"):
        op.execute(f"ALTER TABLE credits.{table} RESET (fillfactor)")
    for op_name in ("insert", "update", "delete"):
        op.execute(f"DROP TRIGGER org_teachers_on_{op_name} ON credits.teachers")
    op.execute("DROP FUNCTION credits.org_teachers_count()")
    op.drop_index("ix_org_teachers_parent", table_name="org_teachers", schema="credits")
    op.drop_table("org_teachers", schema="credits")
    # Fold the slots back into one row per org.
    op.execute(
        "CREATE TEMP TABLE folded AS SELECT year, level, org_id, max(parent_id) AS parent_id,"
        " sum(with_credit) AS with_credit, sum(complete) AS complete,"
        " sum(counted_hours) AS counted_hours FROM credits.org_year_totals GROUP BY 1, 2, 3"
    )
    op.execute("DELETE FROM credits.org_year_totals")
    op.execute(
        "INSERT INTO credits.org_year_totals (year, level, org_id, parent_id, with_credit,"
        " complete, counted_hours, slot) SELECT *, 0 FROM folded"
    )
    op.execute("DROP TABLE folded")
    op.drop_constraint("pk_org_year_totals", "org_year_totals", schema="credits", type_="primary")
    op.create_primary_key(
        "pk_org_year_totals", "org_year_totals", ["year", "level", "org_id"], schema="credits"
    )
    op.drop_column("org_year_totals", "slot", schema="credits")
