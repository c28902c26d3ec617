"""Where lessons' roster lives: the review pools of a project (yanxiu.kit.roster builds the
SQL; the primary key is (project, teacher): pages walk it in order)."""

from __future__ import annotations

from typing import cast

from sqlalchemy import Table

from lessons.allocation.models import Reviewer
from yanxiu.kit.roster import RosterColumns

REVIEWERS = RosterColumns(
    source=cast(Table, Reviewer.__table__),
    teacher_id=Reviewer.teacher_id,
    province_id=Reviewer.province_id,
    city_id=Reviewer.city_id,
    county_id=Reviewer.county_id,
    school_id=Reviewer.school_id,
    status=Reviewer.status,
    project_id=Reviewer.project_id,
)
