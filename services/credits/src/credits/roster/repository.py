"""Where credits' roster lives: the teachers it knows (yanxiu.kit.roster builds the SQL)."""

from __future__ import annotations

from typing import cast

from sqlalchemy import Table

from credits.ledger.models import Teacher
from yanxiu.kit.roster import RosterColumns

TEACHERS = RosterColumns(
    source=cast(Table, Teacher.__table__),
    teacher_id=Teacher.teacher_id,
    province_id=Teacher.province_id,
    city_id=Teacher.city_id,
    county_id=Teacher.county_id,
    school_id=Teacher.school_id,
)
