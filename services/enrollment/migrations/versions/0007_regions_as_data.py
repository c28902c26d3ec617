"""regions as data: Guangdong and Anhui org trees, project owner and rule set

Loads the Guangdong (440000, with Zhaoqing 441200) and Anhui (340000, with Hefei 340100) province
→ city → county trees from `enrollment/data/{guangdong,anhui}_orgs.json` with the loader that
`yanxiu orgs import` uses (`enrollment.orgs.importer`): idempotent, never moving or renaming a
stored org. A training project gets the org that runs it (a province, or a city for a city-run
programme) and the rule set it names; one project per owner, year and stage. Projects made
before this revision belong to the one province that existed then.

Revision ID: 0007
Revises: 0006
"""

import sqlalchemy as sa
from alembic import op

from enrollment.orgs.importer import apply_tree, shipped_tree

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None

S = "enrollment"
TREES = ("guangdong", "anhui")


def _own_existing_projects() -> None:
    """Before this revision only migration 0002's province could exist (no import command
    did); its projects are that province's."""
    bind = op.get_bind()
    if not bind.scalar(sa.text(f"SELECT EXISTS (SELECT 1 FROM {S}.projects)")):
        return
    provinces = bind.scalars(sa.text(f"SELECT id FROM {S}.orgs WHERE level = 'province'")).all()
    if len(provinces) != 1:
        raise RuntimeError(
            f"projects exist but {len(provinces)} provinces are stored; set "
            f"{S}.projects.owner_org_id by hand, then run this migration again"
        )
    op.execute(
        sa.text(f"UPDATE {S}.projects SET owner_org_id = :p, province_id = :p").bindparams(
            p=provinces[0]
        )
    )


def upgrade() -> None:
    op.add_column("projects", sa.Column("owner_org_id", sa.String(40), nullable=True), schema=S)
    op.add_column("projects", sa.Column("province_id", sa.String(40), nullable=True), schema=S)
    op.add_column("projects", sa.Column("city_id", sa.String(40), nullable=True), schema=S)
    op.add_column("projects", sa.Column("rule_set", sa.String(40), nullable=True), schema=S)
    _own_existing_projects()
    op.alter_column("projects", "owner_org_id", nullable=False, schema=S)
    op.alter_column("projects", "province_id", nullable=False, schema=S)
    op.create_foreign_key(
        op.f("fk_projects_owner_org_id_orgs"),
        "projects",
        "orgs",
        ["owner_org_id"],
        ["id"],
        source_schema=S,
        referent_schema=S,
    )
    op.drop_constraint(op.f("uq_projects_year_stage"), "projects", type_="unique", schema=S)
    op.create_unique_constraint(
        op.f("uq_projects_owner_org_id_year_stage"),
        "projects",
        ["owner_org_id", "year", "stage"],
        schema=S,
    )
    for name in TREES:
        apply_tree(op.get_bind(), shipped_tree(name))


def downgrade() -> None:
    # Children first. Fails (as it should) while schools, teachers or projects sit in them.
    divisions = [d for name in TREES for d in shipped_tree(name).divisions]
    orgs = sa.table("orgs", sa.column("id", sa.String), schema=S)
    for level in ("county", "city", "province"):
        ids = [d.id for d in divisions if d.level == level]
        op.execute(orgs.delete().where(orgs.c.id.in_(ids)))
    op.drop_constraint(
        op.f("uq_projects_owner_org_id_year_stage"), "projects", type_="unique", schema=S
    )
    op.create_unique_constraint(
        op.f("uq_projects_year_stage"), "projects", ["year", "stage"], schema=S
    )
    op.drop_constraint(
        op.f("fk_projects_owner_org_id_orgs"), "projects", type_="foreignkey", schema=S
    )
    for column in ("rule_set", "city_id", "province_id", "owner_org_id"):
        op.drop_column("projects", column, schema=S)
