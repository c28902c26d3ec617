"""Where learning's roster lives: the plans of a project (yanxiu.kit.roster builds the SQL)."""

from __future__ import annotations

from typing import cast

from sqlalchemy import Table

from learning.models import Plan
from yanxiu.kit.roster import RosterColumns

PLANS = RosterColumns(
    source=cast(Table, Plan.__table__),
    teacher_id=Plan.teacher_id,
    province_id=Plan.province_id,
    city_id=Plan.city_id,
    county_id=Plan.county_id,
    school_id=Plan.school_id,
    status=Plan.status,
    project_id=Plan.project_id,
    registration_id=Plan.registration_id,
)
