"""org tree data and teacher records

Loads the Shandong province → city → county tree (16 cities, 136 county-level divisions, official
administrative division codes as ids) from `enrollment/data/shandong_orgs.json`; school names
unique within their county; who changed a teacher record (role and name beside the user id).

Revision ID: 0002
Revises: 0001
"""

import json
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from alembic import op

import enrollment

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

_DATA = Path(enrollment.__file__).parent / "data" / "shandong_orgs.json"

_orgs = sa.table(
    "orgs",
    sa.column("id", sa.String),
    sa.column("parent_id", sa.String),
    sa.column("level", sa.String),
    sa.column("name", sa.String),
    sa.column("province_id", sa.String),
    sa.column("city_id", sa.String),
    sa.column("county_id", sa.String),
    schema="enrollment",
)


def _rows() -> list[dict[str, Any]]:
    data = json.loads(_DATA.read_text(encoding="utf-8"))
    prov = data["province"]["id"]
    rows: list[dict[str, Any]] = [
        {
            "id": prov,
            "parent_id": None,
            "level": "province",
            "name": data["province"]["name"],
            "province_id": prov,
            "city_id": None,
            "county_id": None,
        }
    ]
    for city in data["cities"]:
        rows.append(
            {
                "id": city["id"],
                "parent_id": prov,
                "level": "city",
                "name": city["name"],
                "province_id": prov,
                "city_id": city["id"],
                "county_id": None,
            }
        )
        rows.extend(
            {
                "id": county["id"],
                "parent_id": city["id"],
                "level": "county",
                "name": county["name"],
                "province_id": prov,
                "city_id": city["id"],
                "county_id": county["id"],
            }
            for county in city["counties"]
        )
    return rows


def upgrade() -> None:
    op.create_unique_constraint(
        op.f("uq_orgs_parent_id_name"), "orgs", ["parent_id", "name"], schema="enrollment"
    )
    op.add_column(
        "teacher_changes",
        sa.Column("changed_by_role", sa.String(length=20), nullable=True),
        schema="enrollment",
    )
    op.add_column(
        "teacher_changes",
        sa.Column("changed_by_name", sa.String(length=100), nullable=True),
        schema="enrollment",
    )
    op.bulk_insert(_orgs, _rows())


def downgrade() -> None:
    rows = _rows()
    # Children first: counties, then cities, then the province.
    for level in ("county", "city", "province"):
        ids = [r["id"] for r in rows if r["level"] == level]
        op.execute(_orgs.delete().where(_orgs.c.id.in_(ids)))
    op.drop_column("teacher_changes", "changed_by_name", schema="enrollment")
    op.drop_column("teacher_changes", "changed_by_role", schema="enrollment")
    op.drop_constraint(op.f("uq_orgs_parent_id_name"), "orgs", type_="unique", schema="enrollment")
